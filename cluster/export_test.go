package cluster

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// Test hooks.

// AppendEnvelope encodes a delivery as it travels between nodes.
func AppendEnvelope(dst []byte, d *server.Delivery) ([]byte, error) { return appendEnvelope(dst, d) }

// DecodeEnvelope decodes one.
func DecodeEnvelope(b []byte, d *server.Delivery) error { return decodeEnvelope(b, d) }

// UserSubject is the subject of a user's deliveries.
func (c *Cluster) UserSubject(uid string) string { return c.names.user + key(uid) }

// StreamName is the name of the stream of stored pushes.
func (c *Cluster) StreamName() string { return c.names.stream }

// StreamInfo returns the stream's info (its leader, for failover tests).
func (s *Store) StreamInfo(ctx context.Context) (*jetstream.StreamInfo, error) {
	if err := s.c.open(ctx); err != nil {
		return nil, err
	}
	return s.c.stream.Info(ctx)
}

// AppendWithID appends under a JetStream message id chosen by the test (a
// retry of the same push, or a colliding id).
func (s *Store) AppendWithID(ctx context.Context, uid string, m *pack.Message, ttl time.Duration, id string) (int64, int64, error) {
	return s.appendWithID(ctx, uid, m, ttl, id, false)
}

// AppendAsync is the pipelined append (what the server calls).
func (s *Store) AppendAsync(ctx context.Context, uid string, m *pack.Message, ttl time.Duration, done func(seq, prev int64, err error)) {
	s.appendAsync(ctx, uid, m, ttl, done)
}

// FlushPurges runs the purges the acks scheduled now (purger.go).
func (s *Store) FlushPurges() { s.purges.flush() }
