package cluster

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// roomMirror keeps room membership the same on every node. Membership is
// cluster-wide state: a user joined on any node is a member wherever they
// connect, and survives restarts. It lives in the KV bucket <p>_rooms (key
// <room>.<uid>, deleted on leave); every node watches the bucket and
// applies each change to its hub, and writes the changes made on it.
//
// Room pushes then need no per-room interest: every node listens on <p>.r.*
// and writes a room push to the members it holds. A room push costs one
// message per node, whatever the room's size; with a handful of nodes that
// is cheaper and simpler than subscribing per room on every login.
//
// A change takes one JetStream write plus the watchers' delivery (about a
// millisecond on a LAN) to reach the other nodes: a room push sent on
// another node right after Join may miss the new member.
type roomMirror struct {
	b      *Bus
	loaded atomic.Bool // the initial membership was applied

	mu      sync.Mutex
	pending []memberChange // made here, not yet written
	wake    chan struct{}
	retry   chan struct{} // NATS (re)connected: retry the watch now
}

var errWatchEnded = errors.New("cluster: watch ended")

type memberChange struct {
	room, uid string
	member    bool
}

func (r *roomMirror) init(b *Bus) {
	r.b = b
	r.wake = make(chan struct{}, 1)
	r.retry = make(chan struct{}, 1)
}

// connected cuts a retry backoff short.
func (r *roomMirror) connected() {
	select {
	case r.retry <- struct{}{}:
	default:
	}
}

// changed queues a membership change made on this node (hub hook: must not
// block).
func (r *roomMirror) changed(room, uid string, member bool) {
	if err := errors.Join(checkName(room), checkName(uid)); err != nil {
		// its KV key would cost the node its NATS connection; the change
		// stays on this node only
		r.b.c.log.Warn("cluster: room membership not shared", "err", err)
		return
	}
	r.mu.Lock()
	r.pending = append(r.pending, memberChange{room, uid, member})
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// run watches the bucket and writes this node's changes, until ctx ends.
func (r *roomMirror) run(ctx context.Context) {
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		err := r.watch(ctx)
		if ctx.Err() != nil {
			return
		}
		r.b.c.log.Warn("cluster: room membership watch", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-r.retry:
			backoff = 50 * time.Millisecond
			continue
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

func (r *roomMirror) watch(ctx context.Context) error {
	if err := r.b.c.open(ctx); err != nil {
		return err
	}
	kv := r.b.c.roomsKV
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return err
	}
	defer func() {
		// Stop deletes the watcher's consumer, a request that waits out its
		// timeout while NATS is unreachable; the subscription then ends
		// with the connection (closed after the server) and the server
		// drops the consumer when it is inactive.
		if r.b.c.nc.IsConnected() {
			_ = w.Stop()
		}
	}()
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return errWatchEnded
			}
			if e == nil {
				if !r.loaded.Swap(true) {
					r.b.c.log.Debug("cluster: room membership loaded")
				}
				continue
			}
			r.apply(e)
		case <-r.wake:
			if !r.flush(ctx, kv) {
				retry = time.After(200 * time.Millisecond)
			}
		case <-retry:
			retry = nil
			if !r.flush(ctx, kv) {
				retry = time.After(time.Second)
			}
		}
	}
}

// apply applies one bucket entry to this node's hub.
func (r *roomMirror) apply(e jetstream.KeyValueEntry) {
	rt, ut, ok := strings.Cut(e.Key(), ".")
	if !ok {
		return
	}
	room, ok1 := unkey(rt)
	uid, ok2 := unkey(ut)
	if !ok1 || !ok2 || r.b.node == nil {
		return
	}
	r.b.node.SetMember(room, uid, e.Operation() == jetstream.KeyValuePut)
}

// flush writes the queued changes in order; false when one failed (it and
// the rest stay queued).
func (r *roomMirror) flush(ctx context.Context, kv jetstream.KeyValue) bool {
	for {
		r.mu.Lock()
		if len(r.pending) == 0 {
			r.mu.Unlock()
			return true
		}
		c := r.pending[0]
		r.mu.Unlock()
		k := key(c.room) + "." + key(c.uid)
		wctx, cancel := context.WithTimeout(ctx, r.b.c.cfg.RequestTimeout)
		var err error
		if c.member {
			_, err = kv.Put(wctx, k, []byte{'1'})
		} else {
			err = kv.Delete(wctx, k)
		}
		cancel()
		if err != nil {
			r.b.c.log.Warn("cluster: write room membership", "err", err)
			return false
		}
		r.mu.Lock()
		r.pending = r.pending[1:]
		r.mu.Unlock()
	}
}
