package server

import (
	"container/heap"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexpush/plex/pack"
)

// Ack deadlines: the vendor fallback for a persistent push that reached a
// connection but was not acked in time (AckWithin, App.AckTimeout,
// PushRequest.ack_timeout_ms). A phone whose OS froze the app keeps a
// socket that looks alive: the push is written, never processed, and no
// notification is shown unless the node notices the missing ack.
//
// The node that accepted the push keeps its deadline: one entry in a heap
// ordered by time and one timer for the earliest, so a deadline costs an
// entry per push waiting (never anything per connection). At the deadline
// a worker reads the user's device cursors from the Store (in a cluster:
// the shared bucket, so acks recorded by any node count) and, when no
// device (the target device, for a device push) acked the push's seq,
// fires Config.OnUnacked once. Exactly one node keeps a push's deadline,
// so the fallback fires once per push across a cluster. A push that found
// the user offline fired OnUndelivered already and does not fire again.
//
// Deadlines live in the accepting node's memory: a node that stops (or
// crashes) before a deadline drops it (docs/vendor-push.md says so).

// MaxAckDeadlines is the default of Config.MaxAckDeadlines.
const MaxAckDeadlines = 1 << 20

// ackWorkers bounds the cursor reads that run at once.
const ackWorkers = 8

// ackDeadline is one persistent push waiting for an ack.
type ackDeadline struct {
	at     time.Time
	uid    key
	device string // "" any device of the user
	msg    pack.Message
	// settled: OnUndelivered fired for this push (the user was offline):
	// the fallback was sent, the deadline has nothing to do.
	settled atomic.Bool
}

type deadlineHeap []*ackDeadline

func (h deadlineHeap) Len() int           { return len(h) }
func (h deadlineHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h deadlineHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deadlineHeap) Push(x any)        { *h = append(*h, x.(*ackDeadline)) }
func (h *deadlineHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return d
}

// ackWatch keeps the node's ack deadlines.
type ackWatch struct {
	srv  *Server
	max  int
	mu   sync.Mutex
	h    deadlineHeap
	wake chan struct{} // an earlier deadline was added
}

func newAckWatch(srv *Server, max int) *ackWatch {
	return &ackWatch{srv: srv, max: max, wake: make(chan struct{}, 1)}
}

// add files d; false when the node holds Config.MaxAckDeadlines already
// (the push is stored and answered as usual, without a fallback).
func (w *ackWatch) add(d *ackDeadline) bool {
	w.mu.Lock()
	if len(w.h) >= w.max {
		w.mu.Unlock()
		return false
	}
	heap.Push(&w.h, d)
	first := w.h[0] == d
	w.mu.Unlock()
	if first {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// len returns the deadlines waiting (tests, metrics).
func (w *ackWatch) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.h)
}

// due pops the deadlines at or before now and returns the wait until the
// next one (-1: none).
func (w *ackWatch) due(now time.Time, out []*ackDeadline) ([]*ackDeadline, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.h) > 0 && !w.h[0].at.After(now) {
		out = append(out, heap.Pop(&w.h).(*ackDeadline))
	}
	if len(w.h) == 0 {
		return out, -1
	}
	return out, w.h[0].at.Sub(now)
}

// run fires deadlines until stop is closed; the deadlines still waiting
// then are dropped.
func (w *ackWatch) run(stop <-chan struct{}) {
	jobs := make(chan *ackDeadline)
	var workers sync.WaitGroup
	for range ackWorkers {
		workers.Go(func() {
			for d := range jobs {
				w.check(d)
			}
		})
	}
	defer workers.Wait()
	defer close(jobs)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	var batch []*ackDeadline
	for {
		var next time.Duration
		batch, next = w.due(time.Now(), batch[:0])
		for _, d := range batch {
			select {
			case jobs <- d:
			case <-stop:
				return
			}
		}
		clear(batch)
		if next < 0 {
			next = time.Hour
		}
		t.Reset(next)
		select {
		case <-stop:
			return
		case <-w.wake:
		case <-t.C:
		}
	}
}

// check fires the fallback for d unless a device acked it (worker).
func (w *ackWatch) check(d *ackDeadline) {
	srv := w.srv
	if d.settled.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(srv.baseCtx, 10*time.Second)
	curs, err := srv.store.Cursors(ctx, string(d.uid))
	cancel()
	if err != nil {
		// a notification too many beats one missing: fire
		srv.log.Warn("ack deadline: reading the device cursors failed; sending the fallback", "uid", d.uid, "seq", d.msg.Seq, "err", err)
	} else if acked(curs, d.device, d.msg.Seq) {
		return
	}
	f := srv.cfg.OnUnacked
	uid := qualified(d.uid)
	srv.hooks.post(func() {
		srv.metrics.fallbacks.WithLabelValues("ack_timeout").Inc()
		f(uid, &d.msg)
	})
}

// acked reports whether device (any device when "") has a cursor at or
// above seq.
func acked(curs map[string]int64, device string, seq int64) bool {
	if device != "" {
		return curs[device] >= seq
	}
	for _, c := range curs {
		if c >= seq {
			return true
		}
	}
	return false
}

// watchAck files the ack deadline of the stored push sh to uid when it
// asks for one (o.ackBy, the app's default filled in) and the node has a fallback
// (Config.OnUnacked); nil otherwise. Called when the push is stored.
func (srv *Server) watchAck(uid key, sh *pack.Shared, o pushOptions) *ackDeadline {
	if srv.acksDue == nil || !o.persist || o.local || o.ackBy <= 0 {
		return nil
	}
	m := sh.Message()
	d := &ackDeadline{at: time.Now().Add(o.ackBy), uid: uid, device: m.Meta[pack.MetaDevice], msg: *m}
	if !srv.acksDue.add(d) {
		srv.metrics.fallbacks.WithLabelValues("untracked").Inc()
		srv.log.Warn("ack deadline not kept: the node holds Config.MaxAckDeadlines already", "uid", uid, "seq", m.Seq)
		return nil
	}
	return d
}
