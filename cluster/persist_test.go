package cluster_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/cluster"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// requireIncreasing checks that seqs strictly increase.
func requireIncreasing(t *testing.T, who string, seqs []int64) {
	t.Helper()
	for i := 1; i < len(seqs); i++ {
		require.Greater(t, seqs[i], seqs[i-1], "%s: seq %d after %d", who, seqs[i], seqs[i-1])
	}
}

// TestPersistentOrderAcrossNodes: three nodes push persistent messages to
// one user at once. Each node takes seqs under its own order lock, so the
// pushes reach the user's nodes out of seq order; the app (which drops a
// seq at or below the highest it holds) must still get every one, once,
// in seq order, on each of its connections.
func TestPersistentOrderAcrossNodes(t *testing.T) {
	nodes, _ := threeNodes(t)
	a0 := dialApp(t, "alice", "d0", nodes[0].addr)
	a1 := dialApp(t, "alice", "d1", nodes[1].addr)
	const per = 40
	var want []string
	var wg sync.WaitGroup
	for i, n := range nodes {
		for k := range per {
			want = append(want, fmt.Sprintf("p%d-%d", i, k))
		}
		wg.Go(func() {
			for k := range per {
				_, err := n.Push(ctxTimeout(t, waitFor), server.User("alice"),
					pack.Message{URI: "/p", Body: fmt.Appendf(nil, "p%d-%d", i, k)}, server.Persist(time.Hour))
				if !assert.NoError(t, err) {
					return
				}
			}
		})
	}
	wg.Wait()
	for _, a := range []*app{a0, a1} {
		a.waitHas(t, want...)
		a.requireOnce(t, want...)
		requireIncreasing(t, a.uid, a.persistentSeqs())
		// each origin's pushes in the order it sent them
		last := map[byte]int{}
		for _, m := range a.received() {
			var o, k int
			_, err := fmt.Sscanf(string(m.Body), "p%d-%d", &o, &k)
			require.NoError(t, err)
			if prev, ok := last[byte(o)]; ok {
				require.Greater(t, k, prev, "origin p%d reordered", o)
			}
			last[byte(o)] = k
		}
	}
}

// TestGapFilledFromStore makes the race of TestPersistentOrderAcrossNodes
// deterministic: another node stores two pushes and the holding node gets
// only the second one's delivery first. It must write the first (from the
// store) before it, then ignore the late delivery of the first.
func TestGapFilledFromStore(t *testing.T) {
	ns := natsServers(t, 1)
	a := startPlex(t, ns[0].ClientURL(), "a", nodeOpts{})
	b := startPlex(t, ns[0].ClientURL(), "b", nodeOpts{})
	waitReady(t, a, b)
	alice := dialApp(t, "alice", "", a.addr)
	waitSubscribed(t, b, "alice")

	store := b.c.Store() // stores as node b would, without routing
	ctx := ctxTimeout(t, waitFor)
	m1 := pack.Message{URI: "/p", Body: []byte("first"), Meta: map[string]string{pack.MetaPersist: "1"}}
	s1, p1, err := store.AppendAfter(ctx, "alice", &m1, time.Hour)
	require.NoError(t, err)
	require.Zero(t, p1, "no stored push before the first")
	m2 := pack.Message{URI: "/p", Body: []byte("second"), Meta: map[string]string{pack.MetaPersist: "1"}}
	s2, p2, err := store.AppendAfter(ctx, "alice", &m2, time.Hour)
	require.NoError(t, err)
	require.Equal(t, s1, p2, "the second names the first as its predecessor")
	require.Greater(t, s2, s1)

	publish := func(m pack.Message, seq, prev int64) {
		m.Seq = seq
		data, err := cluster.AppendEnvelope(nil, &server.Delivery{Origin: "b", To: server.User("alice"), Msg: m, Persist: true, Prev: prev})
		require.NoError(t, err)
		require.NoError(t, b.nc.Publish(a.c.UserSubject("alice"), data))
	}
	publish(m2, s2, p2) // the second arrives first
	alice.waitHas(t, "first", "second")
	publish(m1, s1, p1) // the first arrives late: a duplicate now
	publish(m2, s2, p2) // and again
	time.Sleep(200 * time.Millisecond)
	alice.requireOnce(t, "first", "second")
	got := alice.received()
	require.Equal(t, []int64{s1, s2}, []int64{got[0].Seq, got[1].Seq}, "in seq order")
}

// waitSubscribed waits until n sees uid online (its subscription reached NATS).
func waitSubscribed(t *testing.T, n *plexNode, uid string) {
	t.Helper()
	require.Eventually(t, func() bool { return n.c.Bus().Online(uid) }, waitFor, 10*time.Millisecond)
}

// TestResumeAcrossNodes: an app that was on node A gets, on node B, what was
// stored while it was away, by resume point and by device cursor.
func TestResumeAcrossNodes(t *testing.T) {
	nodes, _ := threeNodes(t)
	ctx := ctxTimeout(t, waitFor)
	push := func(n *plexNode, body string) int64 {
		out, err := n.Push(ctx, server.User("alice"), pack.Message{URI: "/p", Body: []byte(body)}, server.Persist(time.Hour))
		require.NoError(t, err)
		require.Equal(t, 1, out.Stored)
		return out.Seq
	}
	a := dialApp(t, "alice", "phone", nodes[0].addr)
	push(nodes[2], "m1")
	push(nodes[1], "m2")
	s3 := push(nodes[0], "m3")
	a.waitHas(t, "m1", "m2", "m3")
	require.Eventually(t, func() bool { // the acks reached the store
		c, err := nodes[2].c.Store().Cursor(ctx, "alice", "phone")
		return err == nil && c == s3
	}, waitFor, 10*time.Millisecond)
	last := a.persistentSeqs()[2]
	require.NoError(t, a.Close())
	require.Eventually(t, func() bool { return !nodes[2].Online(server.User("alice")) }, waitFor, 10*time.Millisecond)

	push(nodes[2], "m4")
	push(nodes[0], "m5")

	// resume point on node B
	b := newApp(t, "alice", client.ConnConfig{Addrs: []string{nodes[1].addr}, Device: "phone", LastSeq: last})
	require.NoError(t, b.Connect(ctx))
	b.waitHas(t, "m4", "m5")
	push(nodes[2], "m6")
	b.waitHas(t, "m6")
	time.Sleep(100 * time.Millisecond)
	b.requireOnce(t, "m4", "m5", "m6")
	require.Len(t, b.received(), 3, "nothing it had before")
	require.NoError(t, b.Close())

	// the device's cursor on node C (no resume point): what b acked is not replayed
	require.Eventually(t, func() bool {
		c, err := nodes[0].c.Store().Cursor(ctx, "alice", "phone")
		return err == nil && c == b.persistentSeqs()[2]
	}, waitFor, 10*time.Millisecond)
	push(nodes[1], "m7")
	c := newApp(t, "alice", client.ConnConfig{Addrs: []string{nodes[2].addr}, Device: "phone"})
	require.NoError(t, c.Connect(ctx))
	c.waitHas(t, "m7")
	time.Sleep(100 * time.Millisecond)
	require.Len(t, c.received(), 1)
}
