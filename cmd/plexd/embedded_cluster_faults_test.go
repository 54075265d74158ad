package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
)

// storeReady asks a child plexd whether a persistent push would be stored.
func (p *plexdProc) storeReady() bool {
	resp, err := http.Get("http://" + p.addrs["http"] + "/readyz?store=1")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// TestEmbeddedClusterFaults: three plexd processes clustering their
// embedded NATS on loopback. One is killed with SIGKILL in the middle of
// a stream of persistent pushes to a user on another node: every push
// whose Send returned nil arrives once, in seq order; the node restarts
// on its data directory and rejoins. Then two of three are killed: a
// persistent push through the survivor returns an error (never nil) while
// a transient one reaches a user on the survivor; when the two come back,
// the survivor stores again without being restarted.
func TestEmbeddedClusterFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three plexd processes and kills them")
	}
	routes := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	addrs := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	args := func(i int) []string {
		return []string{"-addr", addrs[i], "-data-dir", dirs[i], "-node", fmt.Sprintf("n%d", i),
			"-cluster-listen", routes[i], "-cluster-peers", strings.Join(routes, ","), "-node-heartbeat", "200ms"}
	}
	var procs [3]*plexdProc
	var wg sync.WaitGroup
	for i := range 3 { // together: JetStream needs a majority to be ready
		wg.Go(func() { procs[i] = startPlexdProc(t, args(i)...) })
	}
	wg.Wait()
	for _, p := range procs {
		require.Eventually(t, p.storeReady, 60*time.Second, 50*time.Millisecond, "store ready: %s", p.out.String())
	}

	alice := dialInbox(t, addrs[2], "alice") // alice on n2, pushes through n0
	pc, err := client.New(client.Config{Addrs: []string{addrs[0]}, Secret: "s3cret"})
	require.NoError(t, err)
	defer pc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// n1 (a JetStream replica, perhaps the stream's leader) killed mid-stream
	var mu sync.Mutex
	var ok []acked
	var sending sync.WaitGroup
	for w := range 16 {
		sending.Go(func() {
			for i := range 60 {
				body := fmt.Sprintf("p-%02d-%03d", w, i)
				if res, err := pc.Send(ctx, "alice", "/p", []byte(body), client.Persist(time.Hour)); err == nil {
					mu.Lock()
					ok = append(ok, acked{"alice", body, res.Seq})
					mu.Unlock()
				}
				if w == 0 && i == 20 {
					procs[1].kill()
				}
			}
		})
	}
	sending.Wait()
	require.NotEmpty(t, ok)
	require.Eventually(t, func() bool {
		for _, a := range ok {
			if !alice.has(a.body) {
				return false
			}
		}
		return true
	}, 30*time.Second, 50*time.Millisecond, "every acknowledged push arrives")
	got := alice.snapshot(t, "alice") // once each, seqs increasing
	for _, a := range ok {
		require.Equal(t, a.seq, got[a.body])
	}
	t.Logf("%d of %d persistent pushes acknowledged around the kill", len(ok), 16*60)

	procs[1] = startPlexdProc(t, args(1)...) // rejoins from its data directory
	require.Eventually(t, procs[1].storeReady, 60*time.Second, 50*time.Millisecond)

	// two of three down: no quorum
	bob := dialInbox(t, addrs[0], "bob") // bob on the survivor
	procs[1].kill()
	procs[2].kill()
	require.Eventually(t, func() bool { return !procs[0].storeReady() }, 30*time.Second, 50*time.Millisecond,
		"the survivor says it cannot store")
	sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
	_, err = pc.Send(sctx, "carol", "/p", []byte("no quorum"), client.Persist(time.Hour))
	scancel()
	require.Error(t, err, "a persistent push without a quorum is never acknowledged")
	res, err := pc.Send(ctx, "bob", "/t", []byte("transient"))
	require.NoError(t, err)
	require.Equal(t, 1, res.Delivered, "transient pushes flow on the survivor")
	_ = bob

	// both back: the survivor stores again, not restarted
	for _, i := range []int{1, 2} {
		wg.Go(func() { procs[i] = startPlexdProc(t, args(i)...) })
	}
	wg.Wait()
	require.Eventually(t, procs[0].storeReady, 60*time.Second, 50*time.Millisecond, "the survivor stores again")
	res, err = pc.Send(ctx, "bob", "/p", []byte("after"), client.Persist(time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, res.Stored)
	require.Eventually(t, func() bool { return bob.has("after") }, 20*time.Second, 50*time.Millisecond)
}
