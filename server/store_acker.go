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
type acker struct {
	store   Store
	timeout time.Duration
	onError func(uid key, err error)

	mu      sync.Mutex
	pending map[ackKey]int64
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

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
	for {
		select {
		case <-a.wake:
			a.flush()
		case <-a.stop:
			a.flush()
			return
		}
	}
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
				a.onError(k.uid, err)
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
