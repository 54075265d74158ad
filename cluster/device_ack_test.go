package cluster_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// TestDevicePushAndAckTimeoutAcrossNodes: a push to one device reaches
// that device on another node and no other device; a persistent one is
// replayed to it by a third node; an unacked persistent push with an ack
// timeout fires the fallback once in the whole cluster (on whichever node
// JetStream hands its deadline to), and an acked one never.
func TestDevicePushAndAckTimeoutAcrossNodes(t *testing.T) {
	ns := natsServers(t, 3)
	all := urls(ns)
	var mu sync.Mutex
	fired := map[string]int{} // "node uid body" → times
	var nodes []*plexNode
	for i := range 3 {
		id := fmt.Sprintf("p%d", i)
		cfg := server.Config{OnUnacked: func(uid string, m *pack.Message) {
			mu.Lock()
			fired[id+" "+uid+" "+string(m.Body)]++
			mu.Unlock()
		}}
		nodes = append(nodes, startPlex(t, ns[i].ClientURL()+","+all, id, nodeOpts{connect: noRandomize, cfg: cfg}))
	}
	waitReady(t, nodes...)
	ctx := ctxTimeout(t, waitFor)

	// alice's phone on p1, her laptop on p2
	laptop := dialApp(t, "alice", "laptop", nodes[2].addr)
	phone := dialApp(t, "alice", "phone", nodes[1].addr)
	require.Eventually(t, func() bool { return nodes[0].Online(server.User("alice")) }, waitFor, 10*time.Millisecond)

	out, err := nodes[0].Push(ctx, server.Device("alice", "laptop"), pack.Message{URI: "/d", Body: []byte("laptop only")})
	require.NoError(t, err)
	require.Equal(t, 0, out.Offline, "%+v", out)
	laptop.waitHas(t, "laptop only")

	// persistent to the laptop, and an ack timeout: the laptop acks
	// (client.Conn acks after OnMessage returns), so nothing fires
	_, err = nodes[0].Push(ctx, server.Device("alice", "laptop"), pack.Message{URI: "/d", Body: []byte("stored for the laptop")},
		server.Persist(0), server.AckWithin(200*time.Millisecond))
	require.NoError(t, err)
	laptop.waitHas(t, "stored for the laptop")

	// to every device: both ack it, nothing fires
	_, err = nodes[0].Push(ctx, server.User("alice"), pack.Message{URI: "/d", Body: []byte("acked by one")},
		server.Persist(0), server.AckWithin(200*time.Millisecond))
	require.NoError(t, err)
	laptop.waitHas(t, "acked by one")
	phone.waitHas(t, "acked by one")

	// to the phone, gone meanwhile while alice stays online on p2: the
	// push waits in the store for the phone, no device acks it
	require.NoError(t, phone.Close())
	require.Eventually(t, func() bool { return nodes[1].Stats().Connections == 0 }, waitFor, 10*time.Millisecond)
	_, err = nodes[0].Push(ctx, server.Device("alice", "phone"), pack.Message{URI: "/d", Body: []byte("never acked")},
		server.Persist(0), server.AckWithin(200*time.Millisecond))
	require.NoError(t, err)

	// every deadline above passed and was checked: wait for the one that
	// must fire, then a little longer for any that must not
	total := func() (n int) {
		mu.Lock()
		defer mu.Unlock()
		for _, k := range fired {
			n += k
		}
		return n
	}
	require.Eventually(t, func() bool { return total() > 0 }, waitFor, 10*time.Millisecond, "the phone's push was never acked")
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	require.Len(t, fired, 1, "%v", fired)
	for k, n := range fired {
		require.Regexp(t, `^p[012] alice never acked$`, k)
		require.Equal(t, 1, n, "once in the cluster: %v", fired)
	}
	mu.Unlock()

	// the phone comes back on p2 and gets its stored push (not the laptop's)
	phone2 := dialApp(t, "alice", "phone", nodes[2].addr)
	phone2.waitHas(t, "never acked")
	require.Zero(t, phone2.count("stored for the laptop"))
	require.Zero(t, laptop.count("never acked"))
}

// TestAckDeadlineSurvivesTheNodeThatTookThePush: the deadline of a push
// lives in JetStream, not in the node that took the push. That node stops
// gracefully right after answering (its queued deadlines are stored as it
// stops), or crashes once the deadline is stored; either way the other
// node fires the fallback, once.
func TestAckDeadlineSurvivesTheNodeThatTookThePush(t *testing.T) {
	for _, crash := range []bool{false, true} {
		t.Run(map[bool]string{false: "stop", true: "crash"}[crash], func(t *testing.T) {
			ns := natsServers(t, 1)
			var mu sync.Mutex
			fired := map[string]int{}
			cfg := func(id string) server.Config {
				return server.Config{OnUnacked: func(uid string, m *pack.Message) {
					mu.Lock()
					fired[id+" "+uid+" "+string(m.Body)]++
					mu.Unlock()
				}}
			}
			p0 := startPlex(t, ns[0].ClientURL(), "p0", nodeOpts{cfg: cfg("p0")})
			p1 := startPlex(t, ns[0].ClientURL(), "p1", nodeOpts{cfg: cfg("p1")})
			waitReady(t, p0, p1)
			ctx := ctxTimeout(t, waitFor)
			// alice registered her device's cursor, then went away: the
			// push waits in the store, acked by no device (no offline
			// hook on these nodes, so its deadline is kept)
			a := dialApp(t, "alice", "phone", p1.addr)
			require.NoError(t, a.Close())
			out, err := p0.Push(ctx, server.User("alice"), pack.Message{URI: "/x", Body: []byte("deadline survives")},
				server.Persist(0), server.AckWithin(time.Second))
			require.NoError(t, err)
			require.Equal(t, 1, out.Stored)
			if crash {
				js, err := jetstream.New(p1.nc)
				require.NoError(t, err)
				require.Eventually(t, func() bool {
					st, err := js.Stream(ctx, "PLEX_ACKTIMEOUTS")
					return err == nil && st.CachedInfo().State.Msgs == 1
				}, waitFor, 10*time.Millisecond, "the deadline is stored")
				p0.crash()
			} else {
				p0.stop(t)
			}
			// a node that crashed holding the deadline (fetched, not yet
			// given back) delays it by AckWait (30 s)
			require.Eventually(t, func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(fired) > 0
			}, waitFor+30*time.Second, 10*time.Millisecond, "the deadline fired without the node that took the push")
			time.Sleep(500 * time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			require.Equal(t, map[string]int{"p1 alice deadline survives": 1}, fired)
		})
	}
}
