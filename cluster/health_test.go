package cluster_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/cluster"
	"github.com/plexpush/plex/cluster/embedded"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// TestNATSUnreachableAtStart: a node whose NATS is not there yet serves,
// says it is not ready, refuses pushes it cannot route (an error, never a
// silent success), and becomes ready when NATS comes.
func TestNATSUnreachableAtStart(t *testing.T) {
	port := freePort(t)
	n := startPlex(t, "nats://127.0.0.1:"+port, "p0", nodeOpts{ccfg: cluster.Config{AppendTimeout: 300 * time.Millisecond}})
	require.ErrorIs(t, n.c.Bus().Health(), cluster.ErrUnavailable)
	require.Equal(t, 503, getStatus("http://"+n.http+"/readyz"))

	ctx := ctxTimeout(t, waitFor)
	_, err := n.Push(ctx, server.User("bob"), pack.Message{URI: "/t", Body: []byte("hi")})
	require.ErrorIs(t, err, cluster.ErrUnavailable, "a transient push that cannot be routed fails")
	_, err = n.Push(ctx, server.User("bob"), pack.Message{URI: "/p", Body: []byte("hi")}, server.Persist(time.Hour))
	require.ErrorIs(t, err, cluster.ErrUnavailable, "a persistent push that cannot be stored fails")
	_, err = n.Push(ctx, server.Everyone(), pack.Message{URI: "/all", Body: []byte("hi")})
	require.ErrorIs(t, err, cluster.ErrUnavailable)

	s, err := embedded.Start(embedded.Config{StoreDir: t.TempDir(), Listen: "127.0.0.1:" + port})
	require.NoError(t, err)
	t.Cleanup(s.Shutdown)
	require.Eventually(t, func() bool { return getStatus("http://"+n.http+"/readyz") == 200 }, waitFor, 20*time.Millisecond)
	a := dialApp(t, "bob", "", n.addr)
	out, err := n.Push(ctx, server.User("bob"), pack.Message{URI: "/p", Body: []byte("stored")}, server.Persist(time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, out.Stored)
	a.waitHas(t, "stored")
}

// TestNATSLostAtRuntime: when the only NATS server goes away, health says
// so and pushes that cannot be routed or stored fail; pushes flow again
// when it is back.
func TestNATSLostAtRuntime(t *testing.T) {
	dir, port := t.TempDir(), freePort(t)
	s, err := embedded.Start(embedded.Config{StoreDir: dir, Listen: "127.0.0.1:" + port})
	require.NoError(t, err)
	n := startPlex(t, "nats://127.0.0.1:"+port, "p0", nodeOpts{ccfg: cluster.Config{AppendTimeout: 300 * time.Millisecond}})
	waitReady(t, n)
	a := dialApp(t, "alice", "", n.addr)
	ctx := ctxTimeout(t, waitFor)

	s.Shutdown()
	require.Eventually(t, func() bool { return getStatus("http://"+n.http+"/readyz") == 503 }, waitFor, 20*time.Millisecond)
	_, err = n.Push(ctx, server.User("alice"), pack.Message{URI: "/t", Body: []byte("lost?")})
	require.ErrorIs(t, err, cluster.ErrUnavailable, "not silently dropped for other nodes")
	_, err = n.Push(ctx, server.User("alice"), pack.Message{URI: "/p", Body: []byte("lost?")}, server.Persist(time.Hour))
	require.ErrorIs(t, err, cluster.ErrUnavailable)

	s, err = embedded.Start(embedded.Config{StoreDir: dir, Listen: "127.0.0.1:" + port})
	require.NoError(t, err)
	t.Cleanup(s.Shutdown)
	require.Eventually(t, func() bool { return getStatus("http://"+n.http+"/readyz") == 200 }, waitFor, 20*time.Millisecond)
	_, err = n.Push(ctx, server.User("alice"), pack.Message{URI: "/p", Body: []byte("back")}, server.Persist(time.Hour))
	require.NoError(t, err)
	a.waitHas(t, "back")
	require.Zero(t, a.count("lost?"))
}
