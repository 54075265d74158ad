package client_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// unsureStore is a MemoryStore whose Append fails for users whose id
// contains "unknown" (wrapping server.ErrOutcomeUnknown: it may have kept
// the message) or "lost" (a plain error: nothing kept).
type unsureStore struct{ *server.MemoryStore }

func (s unsureStore) Append(ctx context.Context, uid string, m *pack.Message, ttl time.Duration, done func(server.Appended)) {
	switch {
	case strings.Contains(uid, "unknown"):
		done(server.Appended{Err: fmt.Errorf("test store: no ack: %w", server.ErrOutcomeUnknown)})
	case strings.Contains(uid, "lost"):
		done(server.Appended{Err: errors.New("test store: nothing written")})
	default:
		s.MemoryStore.Append(ctx, uid, m, ttl, done)
	}
}

// A node's 3008 ("may have been stored") reaches the caller as
// ErrOutcomeUnknown carrying the code, on PlexClient.Send and on
// Conn.Message alike; a 3005 ("not stored") is the code alone, so that one
// errors.Is tells a safe retry from a possible duplicate.
func TestOutcomeUnknownReply(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{
		Store:         unsureStore{server.NewMemoryStore(server.MemoryStoreConfig{})},
		MessagePolicy: allowMessages,
	})
	pc := pusher(t, client.Config{Addrs: []string{n.Addr}})
	alice := dialApp(t, n.Addr, "alice", client.ConnConfig{})
	ctx := ctxT(t)
	for _, tc := range []struct {
		to      string
		code    pack.Code
		unknown bool
	}{
		{"unknown-bob", pack.CodeOutcomeUnknown, true},
		{"lost-bob", pack.CodeInternal, false},
	} {
		_, sendErr := pc.Send(ctx, tc.to, "/x", []byte("b"), client.Persist(0))
		_, msgErr := alice.Message(ctx, tc.to, []byte("hi"))
		for what, err := range map[string]error{"Send": sendErr, "Message": msgErr} {
			require.ErrorIs(t, err, tc.code, "%s to %s", what, tc.to)
			code, ok := pack.CodeOf(err)
			require.True(t, ok, "%s to %s: %v", what, tc.to, err)
			require.Equal(t, tc.code, code, "%s to %s: code: got, want", what, tc.to)
			require.Equal(t, tc.unknown, errors.Is(err, client.ErrOutcomeUnknown), "%s to %s: ErrOutcomeUnknown in %v", what, tc.to, err)
		}
	}
	// both connections stay up: 3008 answers one request, it ends nothing
	_, err := pc.Send(ctx, "bob", "/x", []byte("b"), client.Persist(0))
	require.NoError(t, err)
	_, err = alice.Message(ctx, "bob", []byte("hi"))
	require.NoError(t, err)
	require.Equal(t, client.StateOnline, alice.State())
}
