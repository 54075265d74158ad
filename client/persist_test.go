package client_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// 10,000 ordered persistent pushes to one user arrive in order, with no
// gap and no duplicate after dedup, while the app's connection is killed
// and redialled at random points 30 times and the node keeps running.
// The second run gives the app a tiny dispatcher queue and a slow
// callback, so that kills also land while the reader waits for room.
func TestPersistentPushesSurviveKilledConnections(t *testing.T) {
	t.Run("fast app", func(t *testing.T) { persistUnderKills(t, 0, nil) })
	t.Run("slow app", func(t *testing.T) {
		var n int
		persistUnderKills(t, 2, func() {
			if n++; n%10 == 0 {
				time.Sleep(time.Millisecond)
			}
		})
	})
}

func persistUnderKills(t *testing.T, maxQueued int, onMessage func()) {
	leakCheck(t)
	const (
		total = 10000
		kills = 30
	)
	// The store must hold what piles up while the app is away.
	store := server.NewMemoryStore(server.MemoryStoreConfig{MaxPerUser: 2 * total})
	n := startNode(t, server.Config{Store: store})
	a := newApp(t, client.ConnConfig{Addrs: []string{n.Addr}, Token: "alice", Device: "phone",
		Backoff: client.Backoff{Min: time.Millisecond, Max: 20 * time.Millisecond}})
	if maxQueued > 0 {
		client.SetMaxQueued(a.Conn, maxQueued)
	}
	a.slow = onMessage
	require.NoError(t, a.Connect(ctxT(t)))
	pc := pusher(t, client.Config{Addrs: []string{n.Addr}})
	// 10,000 round trips: under -race on a loaded 2-core machine this takes
	// 20 s or more, so the pushes get a budget of their own.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// Kill points: random push indexes. The killer waits until the app is
	// online again before each kill, so every kill cuts a live connection,
	// while the pushes go on.
	at := make(map[int]bool, kills)
	for len(at) < kills {
		at[rand.IntN(total)] = true
	}
	killReq := make(chan struct{}, kills)
	stopKiller, killed := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(killed)
		for range kills {
			select {
			case <-killReq:
			case <-stopKiller:
				return
			}
			for !a.KillConnection() {
				select {
				case <-stopKiller:
					return
				case <-time.After(time.Millisecond):
				}
			}
		}
	}()
	defer func() { close(stopKiller); <-killed }()

	for i := range total {
		if at[i] {
			killReq <- struct{}{}
		}
		res, err := pc.Send(ctx, "alice", "/seq", []byte(fmt.Sprint(i+1)), client.Persist(time.Hour))
		require.NoError(t, err, "push %d", i)
		require.Equal(t, int64(i+1), res.Seq)
	}
	recvT(t, killed, "the last kill")

	for want := int64(1); want <= total; want++ {
		m := a.recv(t)
		require.Equal(t, want, m.Seq, "gap or reorder: got seq %d, want %d", m.Seq, want)
		require.Equal(t, fmt.Sprint(want), string(m.Body))
		require.Equal(t, "1", m.Get(pack.MetaPersist))
	}
	select {
	case m := <-a.msgs:
		t.Fatalf("duplicate or extra message after all %d: seq %d", total, m.Seq)
	case <-time.After(200 * time.Millisecond):
	}
	reconnects := 0
	for len(a.states) > 0 {
		if e := <-a.states; e.s == client.StateReconnecting {
			reconnects++
		}
	}
	require.GreaterOrEqual(t, reconnects, kills, "every kill made the app reconnect")
	require.Eventually(t, func() bool { return store.Len("alice") == 0 }, waitFor, time.Millisecond,
		"the app acked everything")
}

// Pushes queued for OnMessage but not delivered when the Conn closes are
// not lost: the resume point is what OnMessage returned from, so the node
// still holds the rest for the device's next connection.
func TestUndeliveredQueuedPushesSurviveClose(t *testing.T) {
	leakCheck(t)
	store := server.NewMemoryStore(server.MemoryStoreConfig{})
	n := startNode(t, server.Config{Store: store})
	pc := pusher(t, client.Config{Addrs: []string{n.Addr}})
	ctx := ctxT(t)

	gate := make(chan struct{})
	var once, release sync.Once
	t.Cleanup(func() { release.Do(func() { close(gate) }) })
	a := newApp(t, client.ConnConfig{Addrs: []string{n.Addr}, Token: "alice", Device: "d"})
	a.slow = func() { once.Do(func() { <-gate }) } // the app is stuck in its first callback
	require.NoError(t, a.Connect(ctx))
	for i := 1; i <= 5; i++ {
		_, err := pc.Send(ctx, "alice", "/x", []byte(fmt.Sprint(i)), client.Persist(time.Hour))
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return client.LastQueued(a.Conn) == 5 }, waitFor, time.Millisecond)

	// The connection drops and comes back while the app still has 1-5
	// queued (state callbacks wait behind the stuck one: watch the link).
	first := client.CurrentLink(a.Conn)
	require.True(t, a.KillConnection())
	require.Eventually(t, func() bool {
		l := client.CurrentLink(a.Conn)
		return l != nil && l != first
	}, waitFor, time.Millisecond)
	require.NoError(t, a.Close()) // returns at once: a callback is running
	release.Do(func() { close(gate) })
	recvT(t, a.Done(), "Conn stop")

	b := dialApp(t, n.Addr, "alice", client.ConnConfig{Device: "d"})
	var got []string
	for len(got) < 5 {
		got = append(got, string(b.recv(t).Body))
	}
	require.Equal(t, []string{"1", "2", "3", "4", "5"}, got, "the device's next connection gets what the app never had")
}
