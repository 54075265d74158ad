package cluster_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/cluster"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// threeNodes starts 3 NATS servers in a cluster and 3 plex nodes, node i
// connected to NATS server i first.
func threeNodes(t *testing.T) ([]*plexNode, string) {
	t.Helper()
	return threeNodesWith(t, cluster.Config{})
}

// threeNodesWith is threeNodes with each node's cluster.Config.
func threeNodesWith(t *testing.T, ccfg cluster.Config) ([]*plexNode, string) {
	t.Helper()
	ns := natsServers(t, 3)
	all := urls(ns)
	var nodes []*plexNode
	for i := range 3 {
		// each node prefers its own NATS server, then the others
		u := ns[i].ClientURL() + "," + all
		nodes = append(nodes, startPlex(t, u, fmt.Sprintf("p%d", i), nodeOpts{connect: noRandomize, ccfg: ccfg}))
	}
	waitReady(t, nodes...)
	return nodes, all
}

// TestRouting: users spread over three nodes (one of them on two nodes at
// once); unicast, multi-user, room and broadcast pushes sent to any node,
// in-process, through PlexClient and over HTTP, arrive exactly once per
// connection.
func TestRouting(t *testing.T) {
	nodes, _ := threeNodes(t)
	// alice on p0, bob on p1, carol on p2, dave on p0 and p2 (two devices)
	alice := dialApp(t, "alice", "", nodes[0].addr)
	bob := dialApp(t, "bob", "", nodes[1].addr)
	carol := dialApp(t, "carol", "", nodes[2].addr)
	dave0 := dialApp(t, "dave", "d0", nodes[0].addr)
	dave2 := dialApp(t, "dave", "d2", nodes[2].addr)
	apps := []*app{alice, bob, carol, dave0, dave2}

	pc, err := client.New(client.Config{Addrs: []string{nodes[1].addr}, Secret: secret})
	require.NoError(t, err)
	defer pc.Close()
	ctx := ctxTimeout(t, waitFor)

	// rooms: server-managed joins on nodes that do not hold the user
	nodes[2].Join(server.Room("r1"), "alice")
	nodes[0].Join(server.Room("r1"), "dave")
	nodes[1].Join(server.Room("r1"), "carol")
	require.Eventually(t, func() bool {
		for _, n := range nodes {
			if len(n.Members(server.Room("r1"))) != 3 {
				return false
			}
		}
		return true
	}, waitFor, 10*time.Millisecond, "membership reaches every node")

	for i, n := range nodes {
		for _, uid := range []string{"alice", "bob", "carol", "dave"} {
			body := fmt.Sprintf("u-%s-from-p%d", uid, i)
			_, err := n.Push(ctx, server.User(uid), pack.Message{URI: "/u", Body: []byte(body)})
			require.NoError(t, err)
		}
		body := fmt.Sprintf("users-from-p%d", i)
		_, err := n.Push(ctx, server.Users("alice", "bob", "carol", "dave"), pack.Message{URI: "/m", Body: []byte(body)})
		require.NoError(t, err)
	}
	// PlexClient (to p1) and HTTP (to p2)
	_, err = pc.Send(ctx, "carol", "/u", []byte("pc-carol"))
	require.NoError(t, err)
	_, err = pc.SendUsers(ctx, []string{"alice", "dave"}, "/m", []byte("pc-users"))
	require.NoError(t, err)
	httpPush(t, nodes[2].http, `{"uid":"alice","uri":"/u","body":"http-alice"}`)
	httpPush(t, nodes[2].http, `{"uid":"dave","uri":"/u","body":"http-dave"}`)

	// room pushes from each node, broadcasts from each node
	for i, n := range nodes {
		_, err := n.Push(ctx, server.Room("r1"), pack.Message{URI: "/r", Body: []byte(fmt.Sprintf("room-from-p%d", i))})
		require.NoError(t, err)
		_, err = n.Push(ctx, server.Everyone(), pack.Message{URI: "/all", Body: []byte(fmt.Sprintf("all-from-p%d", i))})
		require.NoError(t, err)
	}
	_, err = pc.SendRoom(ctx, "r1", "/r", []byte("pc-room"))
	require.NoError(t, err)
	_, err = pc.Broadcast(ctx, "/all", []byte("pc-all"))
	require.NoError(t, err)

	expect := map[*app][]string{}
	for _, a := range apps {
		for i := range 3 {
			expect[a] = append(expect[a], fmt.Sprintf("u-%s-from-p%d", a.uid, i), fmt.Sprintf("users-from-p%d", i),
				fmt.Sprintf("all-from-p%d", i))
		}
		expect[a] = append(expect[a], "pc-all")
	}
	expect[carol] = append(expect[carol], "pc-carol")
	for _, a := range []*app{alice, dave0, dave2} {
		expect[a] = append(expect[a], "pc-users", "http-"+a.uid)
	}
	for _, a := range []*app{alice, carol, dave0, dave2} {
		expect[a] = append(expect[a], "room-from-p0", "room-from-p1", "room-from-p2", "pc-room")
	}
	for _, a := range apps {
		a.waitHas(t, expect[a]...)
	}
	time.Sleep(200 * time.Millisecond) // duplicates would arrive by now
	for _, a := range apps {
		a.requireOnce(t, expect[a]...)
		require.Len(t, a.received(), len(expect[a]), "%s got nothing else", a.uid)
	}
	require.Zero(t, bob.count("room-from-p0"), "bob is not in the room")
}

// TestPresence: Online and Where answer for the whole cluster.
func TestPresence(t *testing.T) {
	nodes, _ := threeNodes(t)
	dialApp(t, "alice", "a", nodes[0].addr)
	dialApp(t, "alice", "b", nodes[2].addr)
	require.Eventually(t, func() bool { return nodes[1].Online(server.User("alice")) }, waitFor, 10*time.Millisecond)
	require.False(t, nodes[1].Online(server.User("nobody")))
	var where []string
	require.Eventually(t, func() bool { // both subscriptions reached every NATS server
		var err error
		where, err = nodes[1].c.Bus().Where(context.Background(), "alice")
		return err == nil && len(where) == 2
	}, waitFor, 10*time.Millisecond)
	require.Equal(t, []string{"p0", "p2"}, sorted(where))
	where, err := nodes[1].c.Bus().Where(context.Background(), "nobody")
	require.NoError(t, err)
	require.Empty(t, where)
}

// TestStandalone: a node alone on its NATS (plexd's default) keeps the
// store and rooms but routes nothing.
func TestStandalone(t *testing.T) {
	s := natsServers(t, 1)[0]
	n := startPlex(t, s.ClientURL(), "solo", nodeOpts{ccfg: cluster.Config{Standalone: true}})
	waitReady(t, n)
	a := dialApp(t, "alice", "", n.addr)
	n.Join(server.Room("r"), "alice")
	ctx := ctxTimeout(t, waitFor)
	for _, to := range []server.Target{server.User("alice"), server.Room("r"), server.Everyone()} {
		_, err := n.Push(ctx, to, pack.Message{URI: "/t", Body: []byte("t-" + fmt.Sprint(to))})
		require.NoError(t, err)
	}
	out, err := n.Push(ctx, server.User("alice"), pack.Message{URI: "/p", Body: []byte("stored")}, server.Persist(time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, out.Delivered)
	a.waitHas(t, "stored")
	require.Len(t, a.received(), 4)
	require.True(t, n.Online(server.User("alice")))
	require.False(t, n.Online(server.User("bob")))
	require.Equal(t, n.addr, host(t, n.http))
}
