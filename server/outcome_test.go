package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
	"github.com/plexpush/plex/server"
)

// faultyStore is a MemoryStore whose Append fails for some users: a uid
// containing "unknown" gets an error wrapping server.ErrOutcomeUnknown (the
// write may have been kept, as when a replicated store loses the ack), a
// uid containing "lost" a plain error (known not stored).
type faultyStore struct {
	*server.MemoryStore
}

func newFaultyStore() faultyStore {
	return faultyStore{server.NewMemoryStore(server.MemoryStoreConfig{})}
}

func (s faultyStore) Append(ctx context.Context, uid string, m *pack.Message, ttl time.Duration, done func(server.Appended)) {
	switch {
	case strings.Contains(uid, "unknown"):
		done(server.Appended{Err: fmt.Errorf("test store: append sent, no ack: %w", server.ErrOutcomeUnknown)})
	case strings.Contains(uid, "lost"):
		done(server.Appended{Err: errors.New("test store: no quorum, nothing written")})
	default:
		s.MemoryStore.Append(ctx, uid, m, ttl, done)
	}
}

// outcomeCases: which code a persistent push gets for each kind of store
// failure, and the HTTP status that goes with it.
var outcomeCases = []struct {
	uid     string
	code    pack.Code
	status  int
	unknown bool // errors.Is(err, client.ErrOutcomeUnknown)
}{
	{"unknown-1", pack.CodeOutcomeUnknown, http.StatusGatewayTimeout, true},
	{"lost-1", pack.CodeInternal, http.StatusServiceUnavailable, false},
}

// A store error that may have stored the push is answered 3008, never
// 3005, on /inner/push: a pusher retrying on 3005 would duplicate it.
func TestOutcomeUnknownInnerPush(t *testing.T) {
	n := startNode(t, server.Config{Store: newFaultyStore()})
	p := pusher(t, n.Addr)
	for i, tc := range outcomeCases {
		_, ce := p.push(int64(i+1), server.PushRequest{UID: tc.uid, URI: "/x", Body: "b", Persist: true})
		require.NotNil(t, ce, "%s: push must fail", tc.uid)
		require.Equal(t, tc.code, ce.Code, "%s: code: got, want", tc.uid)
	}
	// the connection stays usable after either answer
	out, ce := p.push(9, server.PushRequest{UID: "fine", URI: "/x", Persist: true})
	require.Nil(t, ce)
	require.Equal(t, 1, out.Stored)
}

func TestOutcomeUnknownHTTPPush(t *testing.T) {
	n := startNode(t, server.Config{Store: newFaultyStore()})
	for _, tc := range outcomeCases {
		status, out := do(t, n.Handler(), "POST", "/plex/v1/push", secret,
			`{"uid":"`+tc.uid+`","uri":"/x","body":"b","persist":true}`)
		require.Equal(t, tc.status, status, "%s: status: got, want", tc.uid)
		require.EqualValues(t, tc.code, out["code"], "%s: code: got, want (%v)", tc.uid, out)
	}
}

func TestOutcomeUnknownPlexClient(t *testing.T) {
	n := startNode(t, server.Config{Store: newFaultyStore()})
	c, err := client.New(client.Config{Addrs: []string{n.Addr}, Secret: secret, Logger: plog.Test(t)})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, tc := range outcomeCases {
		_, err := c.Send(ctx, tc.uid, "/x", []byte("b"), client.Persist(0))
		require.Error(t, err, tc.uid)
		require.Equal(t, tc.unknown, errors.Is(err, client.ErrOutcomeUnknown), "%s: ErrOutcomeUnknown: %v", tc.uid, err)
		require.ErrorIs(t, err, tc.code, tc.uid)
		got, ok := pack.CodeOf(err)
		require.True(t, ok, "%s: a node code in %v", tc.uid, err)
		require.Equal(t, tc.code, got, "%s: code: got, want", tc.uid)
	}
}
