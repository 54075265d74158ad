package cluster_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/cluster"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// TestOutcomeIsClusterTrue: a push to one user, through any node, is
// offline only for a user no node holds, and delivered counts the
// connections of the pushing node, or, when it holds none, of the first
// other node that answered: a user on another node, on two other nodes, on
// the pushing node and another, and on none; transient and persistent.
func TestOutcomeIsClusterTrue(t *testing.T) {
	// A generous answer wait: on a loaded machine (the race detector, other
	// packages' tests) a holder's answer can take longer than the 2 ms
	// default, which would make the user unconfirmed (a valid outcome, not
	// the one checked here).
	nodes, _ := threeNodesWith(t, cluster.Config{AnswerWait: 10 * time.Second})
	dialApp(t, "bob", "b1", nodes[1].addr)  // bob on p1 only
	dialApp(t, "dave", "d1", nodes[1].addr) // dave on p1 and p2
	dialApp(t, "dave", "d2", nodes[2].addr)
	dialApp(t, "erin", "e0", nodes[0].addr) // erin on p0 and p2
	dialApp(t, "erin", "e2", nodes[2].addr)
	ctx := ctxTimeout(t, waitFor)
	require.Eventually(t, func() bool {
		return nodes[0].Online(server.User("bob")) && nodes[0].Online(server.User("dave")) && nodes[1].Online(server.User("erin"))
	}, waitFor, 10*time.Millisecond, "presence reaches every node")

	for _, persist := range []bool{false, true} {
		var opts []server.PushOption
		stored := 0
		if persist {
			opts, stored = append(opts, server.Persist(0)), 1
		}
		for _, c := range []struct {
			uid       string
			delivered int
			offline   int
		}{{"bob", 1, 0}, {"dave", 1, 0}, {"erin", 1, 0}, {"nobody", 0, 1}} {
			out, err := nodes[0].Push(ctx, server.User(c.uid), pack.Message{URI: "/o", Body: []byte("x")}, opts...)
			require.NoError(t, err)
			require.Equal(t, c.delivered, out.Delivered, "%s persist=%v: %+v", c.uid, persist, out)
			require.Equal(t, c.offline, out.Offline, "%s persist=%v: %+v", c.uid, persist, out)
			require.Equal(t, stored, out.Stored, "%s persist=%v", c.uid, persist)
		}
	}
	// several users at once add up the same way
	out, err := nodes[0].Push(ctx, server.Users("bob", "dave", "erin", "nobody"), pack.Message{URI: "/o", Body: []byte("y")})
	require.NoError(t, err)
	require.Equal(t, 3, out.Delivered)
	require.Equal(t, 1, out.Offline)
}

// A node that holds the user but does not answer (frozen, overloaded)
// leaves the user unconfirmed: neither delivered nor offline, never
// reported offline while a node may hold them.
func TestOutcomeUnconfirmedWhenTheHolderDoesNotAnswer(t *testing.T) {
	ns := natsServers(t, 1)
	n := startPlex(t, ns[0].ClientURL(), "p0", nodeOpts{})
	waitReady(t, n)
	silent, err := nats.Connect(ns[0].ClientURL())
	require.NoError(t, err)
	defer silent.Close()
	sub, err := silent.SubscribeSync(n.c.UserSubject("zoe")) // "holds" zoe, never answers
	require.NoError(t, err)
	defer sub.Unsubscribe()
	require.NoError(t, silent.Flush())
	for range 3 { // the first waits for the bound, the next are not asked about
		out, err := n.Push(ctxTimeout(t, waitFor), server.User("zoe"), pack.Message{URI: "/o", Body: []byte("x")})
		require.NoError(t, err)
		require.Zero(t, out.Delivered)
		require.Zero(t, out.Offline, "a user some node may hold is not offline")
	}
	m, err := sub.NextMsg(5 * time.Second)
	require.NoError(t, err, "the push was routed to the holder")
	require.NotEmpty(t, m.Reply, "asking for an answer")
}
