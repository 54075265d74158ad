package server

import (
	"context"
	"sync"
	"time"
)

// acker records apps' acks off the event loop when the Store does I/O
// (package cluster: a JetStream KV round trip per ack). A poller that
// waited for it would stall every connection it serves, for as long as
// NATS is slow or away. Acks are cumulative, so the acker keeps only the
// highest seq per user and device and writes it once: a burst of acks
// costs one store write per device (up to ackWriters at once), and the
// queue is bounded by the number of devices with an ack in flight.
//
// An ack still in the queue when the device reconnects is not lost: the
// app's resume point (meta resume) or the replay's dedup by seq covers it
// (at-least-once, docs/protocol.md §12).
//
// A write that fails (NATS away, a leader election, writers on several
// nodes racing for the user's cursors) is tried again, with backoff, up to
// ackRetries times, merged with any newer ack of the device meanwhile, so
// that cursors converge once the store answers again: a lost ack would
// cost the device a replay of what it already had. Only then is it
// reported (onError) and dropped; the device's next ack covers it.
type acker struct {
	store   Store
	timeout time.Duration
	onError func(uid key, err error)

	mu      sync.Mutex
	pending map[ackKey]int64
	retry   map[ackKey]ackRetry // failed writes waiting for their next try
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

// ackRetry is a failed ack write: its seq, how many tries failed, and when
// to try again.
type ackRetry struct {
	seq   int64
	tries int
	at    time.Time
}

const (
	ackRetries    = 6                      // tries after the first: ~15 s of backoff in all
	ackRetryFirst = 250 * time.Millisecond // doubled per try
)

type ackKey struct {
	uid    key
	device string
}

// storeAckTimeout bounds one ack's store write.
const storeAckTimeout = 10 * time.Second

func newAcker(store Store, timeout time.Duration, onError func(uid key, err error)) *acker {
	a := &acker{
		store: store, timeout: timeout, onError: onError,
		pending: make(map[ackKey]int64),
		retry:   make(map[ackKey]ackRetry),
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go a.run()
	return a
}

// add queues uid's device's ack of everything up to seq.
func (a *acker) add(uid key, device string, seq int64) {
	k := ackKey{uid, device}
	a.mu.Lock()
	if seq > a.pending[k] {
		a.pending[k] = seq
	}
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *acker) run() {
	defer close(a.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		timer.Reset(a.nextRetry())
		select {
		case <-a.wake:
		case <-timer.C:
			a.dueRetries(time.Now())
		case <-a.stop:
			a.dueRetries(time.Now().Add(time.Hour)) // one last try for every failed write
			a.flush()
			return
		}
		a.flush()
	}
}

// nextRetry returns how long until the earliest failed write is due (an
// hour when none waits).
func (a *acker) nextRetry() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	d := time.Hour
	now := time.Now()
	for _, r := range a.retry {
		d = min(d, max(r.at.Sub(now), 0))
	}
	return d
}

// dueRetries moves the failed writes due by now back into the queue (each
// stays in retry, not due, until its write succeeds or fails again).
func (a *acker) dueRetries(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, r := range a.retry {
		if r.at.After(now) {
			continue
		}
		if r.seq > a.pending[k] {
			a.pending[k] = r.seq
		}
		r.at = now.Add(time.Hour) // in flight
		a.retry[k] = r
	}
}

// failed records a failed write of k's ack seq: tried again later, or
// reported and dropped after ackRetries.
func (a *acker) failed(k ackKey, seq int64, err error) {
	a.mu.Lock()
	r := a.retry[k]
	r.seq, r.tries = max(r.seq, seq), r.tries+1
	drop := r.tries > ackRetries
	if drop {
		delete(a.retry, k)
	} else {
		r.at = time.Now().Add(ackRetryFirst << (r.tries - 1))
		a.retry[k] = r
	}
	a.mu.Unlock()
	if drop {
		a.onError(k.uid, err)
	}
}

// succeeded forgets k's failed writes up to seq.
func (a *acker) succeeded(k ackKey, seq int64) {
	a.mu.Lock()
	if r, ok := a.retry[k]; ok && r.seq <= seq {
		delete(a.retry, k)
	}
	a.mu.Unlock()
}

// flush writes every queued ack, one store call per device.
func (a *acker) flush() {
	a.mu.Lock()
	batch := a.pending
	if len(batch) == 0 {
		a.mu.Unlock()
		return
	}
	a.pending = make(map[ackKey]int64, len(batch))
	a.mu.Unlock()
	// Different users' acks are independent store writes: run up to
	// ackWriters at once, so that a batch of many devices costs a few
	// round trips, not one per device.
	sem := make(chan struct{}, ackWriters)
	var wg sync.WaitGroup
	for k, seq := range batch {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
			err := a.store.Ack(ctx, string(k.uid), k.device, seq)
			cancel()
			if err != nil {
				a.failed(k, seq, err)
			} else {
				a.succeeded(k, seq)
			}
		})
	}
	wg.Wait()
}

// ackWriters bounds the store writes one flush runs at once.
const ackWriters = 32

// close writes what is queued and stops.
func (a *acker) close() {
	close(a.stop)
	<-a.done
}

// ack records an app's cumulative ack.
func (srv *Server) ack(s *Session, seq int64) {
	if seq <= 0 {
		return
	}
	srv.recordAck(srv.baseCtx, s.uid, s.device, seq)
	srv.metrics.acks.Inc()
}

// recordAck writes a device's cumulative ack: at once with a local store,
// through the acker otherwise (it must not wait for I/O: it runs on the
// event loop or in the middle of a delivery).
func (srv *Server) recordAck(ctx context.Context, uid key, device string, seq int64) {
	if srv.acks != nil {
		srv.acks.add(uid, device, seq)
		return
	}
	if err := srv.store.Ack(ctx, string(uid), device, seq); err != nil {
		srv.log.Error("store ack", "uid", uid, "err", err)
	}
}
