package cluster_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/cluster/embedded"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// TestKillNATSServer: one of three NATS servers (the one leading the stream
// of stored pushes) dies while pushes flow. Persistent pushes are neither
// lost nor duplicated (each body exactly once, seqs increasing); transient
// pushes flow again within seconds.
func TestKillNATSServer(t *testing.T) {
	ns := natsServers(t, 3)
	all := urls(ns)
	var nodes []*plexNode
	for i := range 3 {
		nodes = append(nodes, startPlex(t, ns[i].ClientURL()+","+all, fmt.Sprintf("p%d", i), nodeOpts{connect: noRandomize}))
	}
	waitReady(t, nodes...)
	users := []string{"alice", "bob", "carol"}
	apps := map[string]*app{}
	for i, uid := range users {
		apps[uid] = dialApp(t, uid, "", nodes[i].addr)
	}
	for _, uid := range users {
		waitSubscribed(t, nodes[0], uid)
	}

	// the NATS server leading the stream
	ctx := ctxTimeout(t, 60*time.Second)
	st, err := nodes[0].c.Store().StreamInfo(ctx)
	require.NoError(t, err)
	var victim *embedded.Server
	for _, s := range ns {
		if st.Cluster != nil && s.Name() == st.Cluster.Leader {
			victim = s
		}
	}
	require.NotNil(t, victim, "stream leader %v", st.Cluster)

	var (
		stop      atomic.Bool
		killed    atomic.Bool
		wg        sync.WaitGroup
		mu        sync.Mutex
		persisted = map[string][]string{}
	)
	for i, n := range nodes {
		wg.Go(func() {
			for k := 0; !stop.Load(); k++ {
				for _, uid := range users {
					body := fmt.Sprintf("p-%s-n%d-%d", uid, i, k)
					pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					_, err := n.Push(pctx, server.User(uid), pack.Message{URI: "/p", Body: []byte(body)}, server.Persist(time.Hour))
					cancel()
					if !assert.NoError(t, err, "persistent push %s (killed=%v)", body, killed.Load()) {
						return
					}
					mu.Lock()
					persisted[uid] = append(persisted[uid], body)
					mu.Unlock()
					// transient pushes may fail while a node reconnects: they say so
					_, _ = n.Push(ctx, server.User(uid), pack.Message{URI: "/t", Body: []byte("t-" + body)})
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	victim.Shutdown()
	killed.Store(true)
	t.Logf("killed NATS server %s (stream leader)", victim.Name())

	// transient pushes sent after the kill reach every app again
	for _, uid := range users {
		require.Eventually(t, func() bool {
			body := fmt.Sprintf("after-kill-%s-%d", uid, time.Now().UnixNano())
			for _, n := range nodes {
				_, _ = n.Push(ctx, server.User(uid), pack.Message{URI: "/t", Body: []byte(body)})
			}
			time.Sleep(50 * time.Millisecond)
			return apps[uid].count(body) > 0
		}, 15*time.Second, time.Millisecond, "transient pushes to %s did not resume", uid)
	}
	time.Sleep(500 * time.Millisecond) // persistent pushes keep flowing after the failover
	stop.Store(true)
	wg.Wait()

	for _, uid := range users {
		a := apps[uid]
		a.waitHas(t, persisted[uid]...)
		a.requireOnce(t, persisted[uid]...)
		requireIncreasing(t, uid, a.persistentSeqs())
		require.Len(t, a.persistentSeqs(), len(persisted[uid]), "%s: no persistent push twice", uid)
		t.Logf("%s: %d persistent pushes, each once, in seq order", uid, len(persisted[uid]))
	}
}

// TestKillPlexNode: a plex node dies (no goodbye). Its apps reconnect to
// the other nodes (one through fixed addresses, one through discovery) and
// resume from their last seq with nothing lost; GET /plex/v1/host stops
// naming the dead node.
func TestKillPlexNode(t *testing.T) {
	nodes, _ := threeNodes(t)
	p0, p1, p2 := nodes[0], nodes[1], nodes[2]
	ctx := ctxTimeout(t, 60*time.Second)

	alice := newApp(t, "alice", client.ConnConfig{Addrs: []string{p0.addr, p1.addr, p2.addr}})
	require.NoError(t, alice.Connect(ctx))
	// bob discovers: p0 is the least loaded node once the others have apps
	// (by a margin: each answer counts as an app sent there until p0's next
	// heartbeat)
	for i := range 4 {
		dialApp(t, fmt.Sprintf("x%d", i), "", p1.addr)
		dialApp(t, fmt.Sprintf("y%d", i), "", p2.addr)
	}
	require.Eventually(t, func() bool { // p1 heard everyone's heartbeat since
		conns := map[string]int{}
		for _, n := range p1.c.Bus().Nodes() {
			conns[n.ID] = n.Connections
		}
		return conns["p0"] == 1 && conns["p1"] == 4 && conns["p2"] == 4
	}, waitFor, 20*time.Millisecond)
	require.Equal(t, p0.addr, host(t, p1.http), "discovery names the least-loaded node")
	bob := newApp(t, "bob", client.ConnConfig{DiscoveryURL: "http://" + p1.http})
	require.NoError(t, bob.Connect(ctx))
	waitSubscribed(t, p1, "alice")
	waitSubscribed(t, p1, "bob")
	require.Equal(t, []string{"alice", "bob"}, sorted(where(t, p1, "alice", "bob", "p0")))

	var sent []string
	push := func(n *plexNode, uid, body string) {
		_, err := n.Push(ctx, server.User(uid), pack.Message{URI: "/p", Body: []byte(body)}, server.Persist(time.Hour))
		require.NoError(t, err)
		sent = append(sent, body)
	}
	for k := range 5 {
		push(nodes[k%3], "alice", fmt.Sprintf("a-before-%d", k))
		push(nodes[k%3], "bob", fmt.Sprintf("b-before-%d", k))
	}
	alice.waitHas(t, "a-before-0", "a-before-4")
	bob.waitHas(t, "b-before-0", "b-before-4")

	p0.crash()
	for k := range 5 { // while they reconnect
		push(nodes[1+k%2], "alice", fmt.Sprintf("a-after-%d", k))
		push(nodes[1+k%2], "bob", fmt.Sprintf("b-after-%d", k))
	}
	var wantA, wantB []string
	for k := range 5 {
		wantA = append(wantA, fmt.Sprintf("a-before-%d", k), fmt.Sprintf("a-after-%d", k))
		wantB = append(wantB, fmt.Sprintf("b-before-%d", k), fmt.Sprintf("b-after-%d", k))
	}
	alice.waitHas(t, wantA...)
	bob.waitHas(t, wantB...)
	time.Sleep(200 * time.Millisecond)
	alice.requireOnce(t, wantA...)
	bob.requireOnce(t, wantB...)
	requireIncreasing(t, "alice", alice.persistentSeqs())
	requireIncreasing(t, "bob", bob.persistentSeqs())

	// the dead node leaves discovery within a few heartbeats, on every node
	for _, n := range []*plexNode{p1, p2} {
		require.Eventually(t, func() bool { return len(n.c.Bus().Nodes()) == 2 }, waitFor, 20*time.Millisecond)
		for range 20 {
			require.NotEqual(t, p0.addr, host(t, n.http), "the dead node is not named")
		}
	}
}

// where returns which of the given uids the node sees on the node named at.
func where(t *testing.T, n *plexNode, a, b, at string) []string {
	t.Helper()
	var out []string
	for _, uid := range []string{a, b} {
		w, err := n.c.Bus().Where(context.Background(), uid)
		require.NoError(t, err)
		for _, id := range w {
			if id == at {
				out = append(out, uid)
			}
		}
	}
	return out
}
