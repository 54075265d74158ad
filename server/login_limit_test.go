package server_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// gateAuth is an authenticator doing "I/O": it waits for release and
// records how many calls ran at once.
type gateAuth struct {
	release      chan struct{}
	running, top atomic.Int64
	calls        atomic.Int64
}

func (g *gateAuth) Authenticate(ctx context.Context, token string, _ net.Addr) (string, error) {
	g.calls.Add(1)
	n := g.running.Add(1)
	defer g.running.Add(-1)
	for {
		top := g.top.Load()
		if n <= top || g.top.CompareAndSwap(top, n) {
			break
		}
	}
	select {
	case <-g.release:
		return token, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// TestLoginsBoundedOffTheReadPath: with an authenticator that does I/O,
// at most MaxConcurrentLogins run at once, at most MaxPendingLogins wait
// or run, and a login beyond that is refused at once with 3005 without
// calling the authenticator; the others complete when it answers.
func TestLoginsBoundedOffTheReadPath(t *testing.T) {
	g := &gateAuth{release: make(chan struct{})}
	n := startNode(t, server.Config{Authenticator: g, MaxConcurrentLogins: 2, MaxPendingLogins: 3})
	var waiting []*peer
	for _, uid := range []string{"u1", "u2", "u3"} {
		p := dial(t, n.Addr)
		p.send(pack.Message{URI: pack.URIAuth, Body: []byte(uid)})
		waiting = append(waiting, p)
	}
	eventually(t, func() bool { return g.running.Load() == 2 }, "two logins authenticating")
	over := dial(t, n.Addr)
	over.send(pack.Message{URI: pack.URIAuth, Body: []byte("u4")})
	over.expectClosed(pack.URIAuthFailed, pack.CodeInternal)
	require.Equal(t, int64(2), g.calls.Load(), "the refused login and the queued one did not call the authenticator")
	require.Equal(t, 1.0, metricValue(t, n, "plex_auth_total", "busy"))

	close(g.release)
	for _, p := range waiting {
		require.Equal(t, pack.URIAuthSuccess, p.recv().URI)
	}
	require.Equal(t, int64(2), g.top.Load(), "never more than two at once")
	eventually(t, func() bool { // the bound is free again once their goroutines ended
		p := dial(t, n.Addr)
		p.send(pack.Message{URI: pack.URIAuth, Body: []byte("u5")})
		return p.recv().URI == pack.URIAuthSuccess
	}, "a login after the others")
}
