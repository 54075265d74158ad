package server

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/plexpush/plex/pack"
)

// Ack deadlines: the vendor fallback for a persistent push that reached a
// connection but was not acked in time (AckWithin, App.AckTimeout,
// PushRequest.ack_timeout_ms). A phone whose OS froze the app keeps a
// socket that looks alive: the push is written, never processed, and no
// notification is shown unless the node notices the missing ack.
//
// A push gets a deadline once it is stored and known not to be offline (a
// push that found the user offline fired OnUndelivered: that was its
// fallback). At the deadline a node reads the user's device cursors from
// the Store (in a cluster: the shared bucket, so acks recorded by any node
// count) and, when no device (the target device, for a device push) acked
// the push's seq, fires Config.OnUnacked once.
//
// Who keeps the deadline depends on the Store. One that implements
// AckDeadlineStore (package cluster, plexd's default) keeps it durably and
// shared: it survives a restart of the node that took the push and the
// loss of that node, and one node of the cluster fires it. Otherwise the
// node that took the push keeps it in memory (ackHeap): one entry in a
// heap with one timer for the earliest, nothing per connection; a node
// that stops drops the deadlines it kept.

// AckDeadline is a persistent push waiting for an ack.
type AckDeadline struct {
	// UID is the user's store key (as Store methods take it).
	UID string
	// Device is the device the push was for ("": any device of the user).
	Device string
	// At is when the fallback fires unless a device acked Msg.Seq.
	At time.Time
	// Msg is the stored push (its Seq set), as OnUnacked receives it.
	Msg pack.Message
}

// AckDeadlineStore is implemented by a Store that keeps ack deadlines
// itself, durably and shared by every node that uses it (package cluster:
// a JetStream work queue). The node then keeps none in memory.
type AckDeadlineStore interface {
	// KeepAckDeadline records d. It must not block on I/O (the node calls
	// it while it holds the user's order lock): a store that does I/O
	// queues d and returns; an error means d was not kept.
	KeepAckDeadline(d AckDeadline) error
	// DueAckDeadlines calls due for each deadline whose time came, on one
	// node of those running it, until ctx ends. A deadline whose due
	// returned an error, or did not return (the node died), is handed out
	// again later.
	DueAckDeadlines(ctx context.Context, due func(AckDeadline) error) error
}

// MaxAckDeadlines is the default of Config.MaxAckDeadlines.
const MaxAckDeadlines = 1 << 20

// ackWorkers bounds the cursor reads the memory heap runs at once.
const ackWorkers = 8

// ackKeeper keeps a node's ack deadlines: ackHeap, or the Store's.
type ackKeeper interface {
	keep(d AckDeadline) error
	run(ctx context.Context)
}

// newAckKeeper returns the keeper for the node's Store; nil when the node
// has no fallback (Config.OnUnacked).
func newAckKeeper(srv *Server) ackKeeper {
	if srv.cfg.OnUnacked == nil {
		return nil
	}
	if st, ok := srv.store.(AckDeadlineStore); ok {
		return storeDeadlines{srv: srv, st: st}
	}
	return newAckHeap(srv, srv.cfg.MaxAckDeadlines)
}

// storeDeadlines is the keeper of a Store that keeps deadlines itself.
type storeDeadlines struct {
	srv *Server
	st  AckDeadlineStore
}

func (k storeDeadlines) keep(d AckDeadline) error { return k.st.KeepAckDeadline(d) }

func (k storeDeadlines) run(ctx context.Context) {
	if err := k.st.DueAckDeadlines(ctx, k.srv.ackDue); err != nil && ctx.Err() == nil {
		k.srv.log.Error("ack deadlines stopped", "err", err)
	}
}

// ackHeap keeps ack deadlines in the node's memory.
type ackHeap struct {
	srv  *Server
	max  int
	mu   sync.Mutex
	h    deadlineHeap
	wake chan struct{} // an earlier deadline was added
}

type deadlineHeap []*AckDeadline

func (h deadlineHeap) Len() int           { return len(h) }
func (h deadlineHeap) Less(i, j int) bool { return h[i].At.Before(h[j].At) }
func (h deadlineHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deadlineHeap) Push(x any)        { *h = append(*h, x.(*AckDeadline)) }
func (h *deadlineHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return d
}

func newAckHeap(srv *Server, max int) *ackHeap {
	return &ackHeap{srv: srv, max: max, wake: make(chan struct{}, 1)}
}

func (w *ackHeap) keep(d AckDeadline) error {
	w.mu.Lock()
	if len(w.h) >= w.max {
		w.mu.Unlock()
		return fmt.Errorf("server: %d ack deadlines kept already (Config.MaxAckDeadlines)", w.max)
	}
	heap.Push(&w.h, &d)
	first := w.h[0] == &d
	w.mu.Unlock()
	if first {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// len returns the deadlines waiting (tests).
func (w *ackHeap) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.h)
}

// due pops the deadlines at or before now and returns the wait until the
// next one (-1: none).
func (w *ackHeap) due(now time.Time, out []*AckDeadline) ([]*AckDeadline, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.h) > 0 && !w.h[0].At.After(now) {
		out = append(out, heap.Pop(&w.h).(*AckDeadline))
	}
	if len(w.h) == 0 {
		return out, -1
	}
	return out, w.h[0].At.Sub(now)
}

// run fires deadlines until ctx ends; the deadlines still waiting then
// are dropped.
func (w *ackHeap) run(ctx context.Context) {
	jobs := make(chan *AckDeadline)
	var workers sync.WaitGroup
	for range ackWorkers {
		workers.Go(func() {
			for d := range jobs {
				if err := w.srv.ackDue(*d); err != nil {
					w.srv.log.Warn("ack deadline: reading the device cursors failed; no fallback sent", "uid", d.UID, "seq", d.Msg.Seq, "err", err)
				}
			}
		})
	}
	defer workers.Wait()
	defer close(jobs)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	var batch []*AckDeadline
	for {
		var next time.Duration
		batch, next = w.due(time.Now(), batch[:0])
		for _, d := range batch {
			select {
			case jobs <- d:
			case <-ctx.Done():
				return
			}
		}
		clear(batch)
		if next < 0 {
			next = time.Hour
		}
		t.Reset(next)
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-t.C:
		}
	}
}

// ackDue handles a deadline whose time came: it fires Config.OnUnacked
// unless a device acked the push. An error (the cursors could not be read)
// fires nothing; a durable keeper hands the deadline out again.
func (srv *Server) ackDue(d AckDeadline) error {
	ctx, cancel := context.WithTimeout(srv.baseCtx, 10*time.Second)
	curs, err := srv.store.Cursors(ctx, d.UID)
	cancel()
	if err != nil {
		return err
	}
	if acked(curs, d.Device, d.Msg.Seq) {
		return nil
	}
	f := srv.cfg.OnUnacked
	uid := qualified(key(d.UID)) // the store carries keys
	srv.hooks.post(func() {
		srv.metrics.fallbacks.WithLabelValues("ack_timeout").Inc()
		f(uid, &d.Msg)
	})
	return nil
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

// ackDeadline returns the ack deadline of the stored push sh to uid when
// it asks for one (o.ackBy, the app's default filled in) and the node has
// a fallback (Config.OnUnacked); nil otherwise. keepAck files it once the
// push is known not to be offline.
func (srv *Server) ackDeadline(uid key, sh *pack.Shared, o pushOptions) *AckDeadline {
	if srv.acksDue == nil || !o.persist || o.local || o.ackBy <= 0 {
		return nil
	}
	m := sh.Message()
	return &AckDeadline{UID: string(uid), Device: m.Meta[pack.MetaDevice], At: time.Now().Add(o.ackBy), Msg: *m}
}

// keepAck files d (nil: nothing to file).
func (srv *Server) keepAck(d *AckDeadline) {
	if d == nil {
		return
	}
	if err := srv.acksDue.keep(*d); err != nil {
		srv.metrics.fallbacks.WithLabelValues("untracked").Inc()
		srv.log.Warn("ack deadline not kept: no fallback if the push is not acked", "uid", d.UID, "seq", d.Msg.Seq, "err", err)
	}
}
