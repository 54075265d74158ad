package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/cluster"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// TestIdleLoginGapAndSecondDevice: the node keeps no write state for a
// user whose login replayed nothing (server/cluster_link.go), and that
// absence must act as the state it stands for. Alice's phone logs in on
// node a with nothing stored; node b stores m1 and m2 and only m2's
// delivery arrives: a writes m1 from the store first. Her tablet then logs
// in on a, b stores m3 and m4, and their deliveries arrive reversed, one
// of them twice: each device gets each message once, in seq order.
func TestIdleLoginGapAndSecondDevice(t *testing.T) {
	ns := natsServers(t, 1)
	a := startPlex(t, ns[0].ClientURL(), "a", nodeOpts{})
	b := startPlex(t, ns[0].ClientURL(), "b", nodeOpts{})
	waitReady(t, a, b)
	phone := dialApp(t, "alice", "phone", a.addr)
	waitSubscribed(t, b, "alice")

	store := b.c.Store() // stores as node b would, without routing
	ctx := ctxTimeout(t, waitFor)
	type stored struct {
		m         pack.Message
		seq, prev int64
	}
	put := func(body string) stored {
		m := pack.Message{URI: "/p", Body: []byte(body), Meta: map[string]string{pack.MetaPersist: "1"}}
		seq, prev, err := store.AppendAfter(ctx, "alice", &m, time.Hour)
		require.NoError(t, err)
		return stored{m, seq, prev}
	}
	deliver := func(s stored) {
		m := s.m
		m.Seq = s.seq
		data, err := cluster.AppendEnvelope(nil, &server.Delivery{Origin: "b", To: server.User("alice"), Msg: m, Persist: true, Prev: s.prev})
		require.NoError(t, err)
		require.NoError(t, b.nc.Publish(a.c.UserSubject("alice"), data))
	}

	m1, m2 := put("m1"), put("m2")
	require.Equal(t, m1.seq, m2.prev)
	deliver(m2)
	phone.waitHas(t, "m1", "m2")
	deliver(m1) // late: a duplicate now
	// the phone's acks reached the store
	require.Eventually(t, func() bool {
		c, err := a.c.Store().Cursor(ctx, "alice", "phone")
		return err == nil && c == m2.seq
	}, waitFor, 10*time.Millisecond)

	tablet := dialApp(t, "alice", "tablet", a.addr)
	m3, m4 := put("m3"), put("m4")
	deliver(m4)
	deliver(m3)
	deliver(m4)
	phone.waitHas(t, "m3", "m4")
	tablet.waitHas(t, "m3", "m4")
	time.Sleep(200 * time.Millisecond)
	phone.requireOnce(t, "m1", "m2", "m3", "m4")
	tablet.requireOnce(t, "m3", "m4")
	require.Equal(t, []int64{m1.seq, m2.seq, m3.seq, m4.seq}, phone.persistentSeqs())
	require.Equal(t, []int64{m3.seq, m4.seq}, tablet.persistentSeqs(), "nothing replayed (acked by the phone, the only device then), then in order")
}

// TestStandaloneCursorsAfterRestart: a standalone node answers the cursor
// of a user who never acked without reading the bucket. After a restart on
// the same JetStream it must still read the cursor of every user who did:
// alice, who acked her pushes on the first node, gets none of them again
// on the second (they are still stored, for her tablet); carol, who never
// acked, gets what was stored for her.
func TestStandaloneCursorsAfterRestart(t *testing.T) {
	url := urls(natsServers(t, 1))
	solo := nodeOpts{ccfg: cluster.Config{Standalone: true}}
	first := startPlex(t, url, "solo", solo)
	ctx := ctxTimeout(t, waitFor)
	tablet := dialApp(t, "alice", "tablet", first.addr) // registered: keeps her pushes stored
	require.NoError(t, tablet.Close())
	alice := dialApp(t, "alice", "phone", first.addr)
	var last int64
	for _, body := range []string{"a1", "a2", "a3"} {
		out, err := first.Push(ctx, server.User("alice"), pack.Message{URI: "/p", Body: []byte(body)}, server.Persist(time.Hour))
		require.NoError(t, err)
		last = out.Seq
	}
	alice.waitHas(t, "a1", "a2", "a3")
	require.Eventually(t, func() bool {
		c, err := first.c.Store().Cursor(ctx, "alice", "phone")
		return err == nil && c == last
	}, waitFor, 10*time.Millisecond, "alice's acks reached the store")
	_, err := first.Push(ctx, server.User("carol"), pack.Message{URI: "/p", Body: []byte("c1")}, server.Persist(time.Hour))
	require.NoError(t, err)
	require.NoError(t, alice.Close())
	first.stop(t)

	second := startPlex(t, url, "solo", solo)
	again := newApp(t, "alice", client.ConnConfig{Addrs: []string{second.addr}, Device: "phone"}) // no resume point: the cursor decides
	require.NoError(t, again.Connect(ctx))
	carol := dialApp(t, "carol", "phone", second.addr)
	carol.waitHas(t, "c1")
	out, err := second.Push(ctx, server.User("alice"), pack.Message{URI: "/p", Body: []byte("a4")}, server.Persist(time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, out.Delivered)
	again.waitHas(t, "a4")
	require.Len(t, again.received(), 1, "nothing alice acked on the first node")
	c, err := second.c.Store().Cursor(context.Background(), "dave", "")
	require.NoError(t, err)
	require.Zero(t, c)
}
