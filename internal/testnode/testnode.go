// Package testnode runs a plex server on a loopback listener for the tests
// of the packages that talk to one (server, client, sdk/mobile): one
// harness, shut down when the test ends.
package testnode

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/internal/testmetrics"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
	"github.com/plexpush/plex/server"
)

// Secret is the inner secret a node gets unless its Config sets one.
const Secret = "inner-secret"

// Wait bounds every "eventually" of the harness: generous for a busy
// 2-core machine, never a timing assertion.
const Wait = 20 * time.Second

// Node is a server under test. Restart brings a new server up on the same
// address with the same store, as a node restarted with a durable store.
type Node struct {
	*server.Server
	Addr  string
	Store server.Store // the store it serves, kept across Restart

	t    testing.TB
	cfg  server.Config
	done chan error
	mu   sync.Mutex // Stop may run from a test and from cleanup
}

// Start serves cfg with auth.None, Secret, a test logger and a memory store
// unless cfg says otherwise; the node stops (Shutdown) when the test ends.
func Start(t testing.TB, cfg server.Config) *Node {
	t.Helper()
	if cfg.Authenticator == nil {
		cfg.Authenticator = auth.None{}
	}
	if cfg.InnerSecret == "" {
		cfg.InnerSecret = Secret
	}
	if cfg.Logger == nil {
		cfg.Logger = plog.Test(t)
	}
	if cfg.Store == nil {
		cfg.Store = server.NewMemoryStore(server.MemoryStoreConfig{})
	}
	n := &Node{t: t, cfg: cfg, Store: cfg.Store}
	n.start("127.0.0.1:0")
	t.Cleanup(n.Stop)
	return n
}

func (n *Node) start(addr string) {
	n.t.Helper()
	srv, err := server.New(n.cfg)
	require.NoError(n.t, err)
	var ln net.Listener
	for i := 0; ; i++ { // the port of a node that just stopped may linger briefly
		ln, err = net.Listen("tcp", addr)
		if err == nil || i == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(n.t, err)
	n.Server, n.Addr, n.done = srv, ln.Addr().String(), make(chan error, 1)
	go func() { n.done <- srv.Serve(ln) }()
}

// Stop shuts the node down gracefully (apps get /disconnect 3000); once.
func (n *Node) Stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.done == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	require.NoError(n.t, n.Shutdown(ctx))
	require.ErrorIs(n.t, <-n.done, server.ErrServerClosed)
	n.done = nil
}

// Restart stops the node and serves a new one on the same address and store.
func (n *Node) Restart() {
	n.t.Helper()
	n.Stop()
	n.mu.Lock()
	defer n.mu.Unlock()
	n.start(n.Addr)
}

// PushText pushes a text body to uid through the in-process API (stored
// when persist), failing the test on an error.
func (n *Node) PushText(uid, uri, body string, persist bool) server.Outcome {
	n.t.Helper()
	var opts []server.PushOption
	if persist {
		opts = append(opts, server.Persist(0))
	}
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	out, err := n.Push(ctx, server.User(uid), pack.Message{URI: uri, Body: []byte(body)}, opts...)
	require.NoError(n.t, err)
	return out
}

// WaitMetric waits until the node's unlabelled metric name equals want
// (e.g. plex_background_connections once a mode request was applied),
// failing the test after Wait.
func (n *Node) WaitMetric(name string, want float64) {
	n.t.Helper()
	require.Eventually(n.t, func() bool { return testmetrics.Value(n.t, n.Handler(), name, "") == want },
		Wait, 5*time.Millisecond, "%s never became %v", name, want)
}
