package cluster_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/cluster"
	"github.com/plexpush/plex/cluster/embedded"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
	"github.com/plexpush/plex/server"
)

// overControlLine makes the NATS server answer "-ERR 'Maximum Control Line
// Exceeded'" and close the connection: a subject over its 4 KiB limit,
// published on the node's own connection as a bug or another program
// could.
func overControlLine(t *testing.T, nc *nats.Conn) {
	t.Helper()
	require.NoError(t, nc.Publish("x."+strings.Repeat("a", 5000), nil))
	_ = nc.Flush()
}

// pushesWork proves the node routes and stores again: a persistent and a
// transient push reach alice.
func pushesWork(t *testing.T, n *server.Server, a *app, tag string) {
	t.Helper()
	var out server.Outcome
	require.Eventually(t, func() bool { // the first may race the reconnect
		var err error
		out, err = n.Push(context.Background(), server.User("alice"), pack.Message{URI: "/p", Body: []byte("stored " + tag)}, server.Persist(time.Hour))
		return err == nil
	}, waitFor, 20*time.Millisecond, "persistent push")
	require.Equal(t, 1, out.Stored)
	_, err := n.Push(context.Background(), server.User("alice"), pack.Message{URI: "/t", Body: []byte("live " + tag)})
	require.NoError(t, err)
	a.waitHas(t, "stored "+tag, "live "+tag)
}

// TestServerErrorDoesNotCloseTheConnection: a server error after which
// nats.go closes a connection for good costs a node made with
// cluster.ReconnectOnServerError a reconnect, not its NATS connection:
// the same *nats.Conn comes back, with the Cluster's subscriptions,
// and pushes work again. Without the option the connection is gone.
func TestServerErrorDoesNotCloseTheConnection(t *testing.T) {
	url := urls(natsServers(t, 1))
	t.Run("with ReconnectOnServerError", func(t *testing.T) {
		n := startPlex(t, url, "p0", nodeOpts{connect: []nats.Option{cluster.ReconnectOnServerError()}})
		waitReady(t, n)
		a := dialApp(t, "alice", "", n.addr)
		pushesWork(t, n.Server, a, "before")

		overControlLine(t, n.nc)
		require.Eventually(t, func() bool { return n.nc.Stats().Reconnects >= 1 && n.nc.IsConnected() },
			waitFor, 10*time.Millisecond, "reconnected (status %s, last error %v)", n.nc.Status(), n.nc.LastError())
		waitReady(t, n)
		require.Equal(t, 200, getStatus("http://"+n.http+"/readyz"))
		pushesWork(t, n.Server, a, "after")
		require.True(t, n.Online(server.User("alice")))
	})
	t.Run("without it (what the option prevents)", func(t *testing.T) {
		n := startPlex(t, url, "p1", nodeOpts{})
		waitReady(t, n)
		overControlLine(t, n.nc)
		require.Eventually(t, func() bool { return n.nc.IsClosed() }, waitFor, 10*time.Millisecond)
		require.ErrorContains(t, n.c.Bus().Health(), "CLOSED for good")
		require.Equal(t, 503, getStatus("http://"+n.http+"/readyz"))
	})
}

// TestServerErrorInProcess: plexd's default, an embedded NATS server
// reached in-process by a standalone node, reconnects the same way.
func TestServerErrorInProcess(t *testing.T) {
	ns, err := embedded.Start(embedded.Config{StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(ns.Shutdown)
	nc, err := ns.Connect(nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond), cluster.ReconnectOnServerError())
	require.NoError(t, err)
	c, err := cluster.New(cluster.Config{Conn: nc, Standalone: true, Logger: plog.Test(t)})
	require.NoError(t, err)
	srv, err := server.New(server.Config{Bus: c.Bus(), Store: c.Store(), Authenticator: auth.None{}, InnerSecret: secret, Logger: plog.Test(t)})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
		nc.Close()
		<-done
	})
	require.Eventually(t, func() bool { return c.Bus().Health() == nil }, waitFor, 10*time.Millisecond)
	a := dialApp(t, "alice", "", ln.Addr().String())
	pushesWork(t, srv, a, "before")

	overControlLine(t, nc)
	require.Eventually(t, func() bool { return nc.Stats().Reconnects >= 1 && nc.IsConnected() },
		waitFor, 10*time.Millisecond, "reconnected (status %s, last error %v)", nc.Status(), nc.LastError())
	pushesWork(t, srv, a, "after")
}

// TestLongNamesNeverReachNATS: the cluster refuses names too long for a
// subject before publishing, subscribing or asking, so even a server that
// let a 5,000-byte uid through (a newer limit, a bug) cannot cost the
// node its NATS connection.
func TestLongNamesNeverReachNATS(t *testing.T) {
	url := urls(natsServers(t, 1))
	n := startPlex(t, url, "p0", nodeOpts{})
	waitReady(t, n)
	b := n.c.Bus()
	long := strings.Repeat("u", 5000)
	for _, to := range []server.Target{server.User(long), server.Users("bob", long), server.Room(long)} {
		err := b.Publish(context.Background(), server.Delivery{Origin: "p0", To: to, Msg: pack.Message{URI: "/x"}}, nil)
		require.ErrorIs(t, err, pack.ErrBadName, "%+v", to)
	}
	require.ErrorIs(t, b.Subscribe(long), pack.ErrBadName)
	require.False(t, b.Online(long))
	_, err := b.Where(context.Background(), long)
	require.ErrorIs(t, err, pack.ErrBadName)
	b.MemberChanged(long, "bob", true)
	b.MemberChanged("room", long, true)

	require.NoError(t, n.nc.Flush())
	require.True(t, n.nc.IsConnected())
	require.Zero(t, n.nc.Stats().Reconnects, "the connection never saw them")
	require.NoError(t, b.Health())
}
