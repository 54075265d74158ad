package server

import (
	"context"
	"time"

	"github.com/plexpush/plex/pack"
)

// Store keeps persistent pushes per user until every device acked them or
// their TTL passed. The memory store is the default; package cluster
// implements it on NATS JetStream.
//
// Ack model (docs/protocol.md §Ack): each device of a user has a cursor,
// the highest seq it acked (apps that do not ack advance their device's
// cursor when a message is written to them). A message is dropped when its
// TTL passes, when the per-user bound pushes it out (oldest first), or when
// every device that has a cursor has acked it.
type Store interface {
	// Append stores m for uid, assigning the next seq (> every earlier seq
	// of uid, and > 0; the memory store counts 1, 2, …, the JetStream store
	// uses its stream sequence, so a user's seqs may have gaps), and calls
	// done exactly once with the outcome, only after m is stored (or the
	// append failed). Append must not block on I/O: a store that does I/O
	// returns at once and calls done later, from any goroutine (done does
	// not block); a local store (Local() true, like the memory store) calls
	// done before Append returns. The node keeps at most one append per
	// user in flight (its pipe, pipe.go), and passes m untouched until done.
	// Err wrapping ErrOutcomeUnknown says m may have been stored.
	Append(ctx context.Context, uid string, m *pack.Message, ttl time.Duration, done func(Appended))
	// After returns up to limit stored messages of uid with seq > after, in
	// seq order.
	After(ctx context.Context, uid string, after int64, limit int) ([]pack.Message, error)
	// Ack records that uid's device holds everything up to seq. The first
	// Ack of a device (even with seq 0) registers it, so messages it has not
	// acked are kept for it. An Ack above the last seq the store issued for
	// uid (the store lost state, e.g. a memory store after a restart) raises
	// the next seq above it, so new pushes are never mistaken for duplicates;
	// a store whose seqs cannot be raised per user but already start above
	// every earlier seq when it is created again (package cluster: stream
	// sequences from the stream's creation time) ignores such an ack
	// instead, so a bogus ack can neither hide future pushes nor ack stored
	// ones the device never received.
	Ack(ctx context.Context, uid, device string, seq int64) error
	// Cursor returns the seq the device acked last (0 if none).
	Cursor(ctx context.Context, uid, device string) (int64, error)
	// Cursors returns every device's cursor of uid (device → the seq it
	// acked last; "" is the device of apps that send no device id), as
	// the store holds them now: a store shared by several nodes reads what
	// any node recorded, not a cache. None is an empty or nil map.
	Cursors(ctx context.Context, uid string) (map[string]int64, error)
	// Resume returns the seq after which a login is replayed when the app
	// says it holds every seq ≤ resume (meta "resume", docs/protocol.md
	// §12): resume itself when every seq the store issues for uid from now
	// on is above it (a store that lost its state raises its numbering),
	// or, when resume is above every seq the store issued and its numbering
	// cannot go above it, a point the store knows for the device (its
	// cursor, never above the store's last seq). The app's seqs then came
	// from a store that no longer exists; the node says so in /auth/success
	// ("resume") and the app takes that point as its highest seq.
	Resume(ctx context.Context, uid, device string, resume int64) (int64, error)
	// Local reports whether the store does no I/O (the memory store): the
	// node then runs it inline on the read path and Append calls done
	// before it returns. A store that waits on disk or network says false,
	// and the node calls it from goroutines that may block.
	Local() bool
}

// Appended is a Store's answer to Append.
type Appended struct {
	// Seq is the stored message's seq (when Err is nil).
	Seq int64
	// Prev is the seq of uid's stored message that preceded it (0: none),
	// or -1 when the store cannot tell. A store shared by several nodes
	// (package cluster) says it, so that a node holding the user writes
	// persistent pushes from every node in seq order, without skipping one
	// that is still on its way (Delivery.Prev).
	Prev int64
	Err  error
}

// appendStored appends m and waits for the outcome (the memory store's
// path, and tests).
func (srv *Server) appendStored(ctx context.Context, uid key, m *pack.Message, ttl time.Duration) (seq, prev int64, err error) {
	res := make(chan Appended, 1)
	srv.store.Append(ctx, string(uid), m, ttl, func(a Appended) { res <- a })
	a := <-res
	return a.Seq, a.Prev, a.Err
}
