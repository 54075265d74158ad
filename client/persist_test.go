package client_test

import (
	"fmt"
	"math/rand/v2"
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
	a := newApp(t, client.ConnConfig{Addrs: []string{n.addr}, Token: "alice", Device: "phone",
		Backoff: client.Backoff{Min: time.Millisecond, Max: 20 * time.Millisecond}})
	if maxQueued > 0 {
		client.SetMaxQueued(a.Conn, maxQueued)
	}
	a.slow = onMessage
	require.NoError(t, a.Connect(ctxT(t)))
	pc := pusher(t, client.Config{Addrs: []string{n.addr}})
	ctx := ctxT(t)

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
