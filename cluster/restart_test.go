package cluster_test

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
	"github.com/plexpush/plex/server"
)

// TestRestartWithStableNodeID: a node restarted with the same NodeID (as
// docs/operations.md recommends) stores every push of its new life. Before,
// its message ids started over, JetStream's two-minute duplicate window took
// bob's pushes for alice's, and they were answered stored but never stored.
func TestRestartWithStableNodeID(t *testing.T) {
	url := urls(natsServers(t, 1))
	ctx := ctxTimeout(t, waitFor)
	push := func(n *plexNode, uid string, i int) int64 {
		out, err := n.Push(ctx, server.User(uid), pack.Message{URI: "/p", Body: fmt.Appendf(nil, "%s-%d", uid, i)}, server.Persist(time.Hour))
		require.NoError(t, err)
		require.Equal(t, 1, out.Stored)
		return out.Seq
	}
	first := startPlex(t, url, "p0", nodeOpts{})
	var seqs []int64
	for i := range 3 {
		seqs = append(seqs, push(first, "alice", i))
	}
	first.stop(t)
	again := startPlex(t, url, "p0", nodeOpts{})
	for i := range 3 {
		seqs = append(seqs, push(again, "bob", i))
	}
	requireIncreasing(t, "seqs", seqs)
	for _, uid := range []string{"alice", "bob"} {
		got, err := again.c.Store().After(ctx, uid, 0, 0)
		require.NoError(t, err)
		require.Equal(t, []string{uid + "-0", uid + "-1", uid + "-2"}, bodies(got))
	}
}

// TestResumeAboveStoreOnJetStream: a device resuming from a seq above
// anything the stream issued (its seqs came from another store) is told the
// node's resume point and gets every later push live, as do the user's
// other devices; the Outcome counts them (protocol §12).
func TestResumeAboveStoreOnJetStream(t *testing.T) {
	url := urls(natsServers(t, 1))
	n := startPlex(t, url, "p0", nodeOpts{})
	ctx := ctxTimeout(t, waitFor)
	phone := newApp(t, "alice", client.ConnConfig{Addrs: []string{n.addr}, Device: "phone", LastSeq: 1 << 60})
	require.NoError(t, phone.Connect(ctx))
	tablet := dialApp(t, "alice", "tablet", n.addr)
	for i := range 3 {
		out, err := n.Push(ctx, server.User("alice"), pack.Message{URI: "/p", Body: fmt.Appendf(nil, "m%d", i)}, server.Persist(time.Hour))
		require.NoError(t, err)
		require.Equal(t, server.Outcome{Delivered: 2, Stored: 1, Seq: out.Seq}, out)
	}
	phone.waitHas(t, "m0", "m1", "m2")
	tablet.waitHas(t, "m0", "m1", "m2")
	requireIncreasing(t, "phone", phone.persistentSeqs())
	// the phone acks the new seqs: the node's cursor moves (an ack of the
	// old, foreign seqs would have been ignored)
	last := phone.persistentSeqs()[2]
	require.Eventually(t, func() bool {
		c, err := n.c.Store().Cursor(ctx, "alice", "phone")
		return err == nil && c == last
	}, waitFor, 10*time.Millisecond)
}

// TestRollingRestartsLoseNothing: three nodes with stable ids restarted one
// after another, twice, within JetStream's two-minute duplicate window,
// while a push client sends persistent pushes at ~100/s: every push
// answered stored reaches its user exactly once, in order.
func TestRollingRestartsLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("rolling restarts take ~10 s")
	}
	url := urls(natsServers(t, 1))
	var addrs, https []string
	for range 3 {
		addrs = append(addrs, "127.0.0.1:"+freePort(t))
		https = append(https, "127.0.0.1:"+freePort(t))
	}
	nodes := make([]*plexNode, 3)
	start := func(i int) {
		nodes[i] = startPlex(t, url, "p"+strconv.Itoa(i), nodeOpts{addr: addrs[i], http: https[i]})
	}
	for i := range 3 {
		start(i)
	}
	waitReady(t, nodes...)
	ctx := ctxTimeout(t, 2*time.Minute)

	const users = 6
	apps := make([]*app, users)
	for u := range users {
		// each user's app starts on another node and moves on restarts
		a := newApp(t, fmt.Sprintf("u%d", u), client.ConnConfig{Addrs: rotate(addrs, u), Device: "d"})
		require.NoError(t, a.Connect(ctx))
		apps[u] = a
	}
	pc, err := client.New(client.Config{Addrs: addrs, Secret: secret, Logger: plog.Test(t),
		Backoff: client.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}})
	require.NoError(t, err)
	defer pc.Close()

	var (
		mu      sync.Mutex
		stored  = make([][]string, users) // per user, in the order the pushes were answered
		unknown int
		failed  []error
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // ~100 pushes/s, one at a time per user so each user's order is the answer order
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			u := i % users
			body := fmt.Sprintf("u%d-%d", u, i)
			_, err := pc.Send(ctx, fmt.Sprintf("u%d", u), "/p", []byte(body), client.Persist(time.Hour))
			mu.Lock()
			switch {
			case err == nil:
				stored[u] = append(stored[u], body)
			case errors.Is(err, client.ErrOutcomeUnknown):
				unknown++
			default:
				failed = append(failed, err)
			}
			mu.Unlock()
		}
	})
	time.Sleep(500 * time.Millisecond)
	for range 2 {
		for i := range 3 {
			nodes[i].stop(t)
			start(i)
			waitReady(t, nodes...)
			time.Sleep(time.Second)
		}
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	require.Empty(t, failed, "pushes refused during rolling restarts")
	require.Zero(t, unknown, "orderly restarts drain: no push ends unknown")
	total := 0
	for u, a := range apps {
		want := stored[u]
		total += len(want)
		a.waitHas(t, want...)
		a.requireOnce(t, want...)
		var got []string
		for _, m := range a.received() {
			got = append(got, string(m.Body))
		}
		require.Equal(t, want, got, "u%d: every stored push once, in order, nothing else", u)
		requireIncreasing(t, a.uid, a.persistentSeqs())
	}
	require.Greater(t, total, 300, "pushes kept flowing")
}

// rotate returns s starting at its i-th element.
func rotate(s []string, i int) []string {
	i %= len(s)
	return append(append([]string(nil), s[i:]...), s[:i]...)
}
