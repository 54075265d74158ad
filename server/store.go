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
	// of uid, starting at 1), and returns it.
	Append(ctx context.Context, uid string, m *pack.Message, ttl time.Duration) (seq int64, err error)
	// After returns up to limit stored messages of uid with seq > after, in
	// seq order.
	After(ctx context.Context, uid string, after int64, limit int) ([]pack.Message, error)
	// Ack records that uid's device holds everything up to seq. The first
	// Ack of a device (even with seq 0) registers it, so messages it has not
	// acked are kept for it. An Ack above the last seq the store issued for
	// uid (the store lost state, e.g. a memory store after a restart) raises
	// the next seq above it, so new pushes are never mistaken for duplicates.
	Ack(ctx context.Context, uid, device string, seq int64) error
	// Cursor returns the seq the device acked last (0 if none).
	Cursor(ctx context.Context, uid, device string) (int64, error)
}
