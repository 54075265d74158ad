package cluster_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/cluster"
	"github.com/plexpush/plex/pack"
)

type appendResult struct {
	seq, prev int64
	err       error
}

// appendAll starts every append at once (many per user in flight, more
// than the server ever has) and waits for every answer.
func appendAll(t *testing.T, st *cluster.Store, users, per int) map[string][]appendResult {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	got := map[string][]appendResult{}
	for i := range per {
		for u := range users {
			uid := fmt.Sprintf("u%d", u)
			m := pack.Message{URI: "/p", Body: fmt.Appendf(nil, "%s-%d", uid, i)}
			wg.Add(1)
			st.AppendAsync(context.Background(), uid, &m, time.Hour, func(seq, prev int64, err error) {
				mu.Lock()
				got[uid] = append(got[uid], appendResult{seq, prev, err})
				mu.Unlock()
				wg.Done()
			})
		}
	}
	wg.Wait()
	return got
}

// TestPipelineStoresEachOnce: pipelined appends, standalone (fast path
// from the first push) and shared (the first push of a user reads its last
// seq), with several appends per user racing for the same expected last
// seq: every append is answered once, stored once, and each user's chain of
// predecessors is intact.
func TestPipelineStoresEachOnce(t *testing.T) {
	for _, standalone := range []bool{true, false} {
		t.Run(fmt.Sprintf("standalone=%v", standalone), func(t *testing.T) {
			s := natsServers(t, 1)[0]
			st := newStore(t, s, cluster.Config{Standalone: standalone})
			const users, per = 50, 8
			got := appendAll(t, st, users, per)
			for u := range users {
				uid := fmt.Sprintf("u%d", u)
				require.Len(t, got[uid], per)
				for _, r := range got[uid] {
					require.NoError(t, r.err)
				}
				stored, err := st.After(context.Background(), uid, 0, 0)
				require.NoError(t, err)
				require.Len(t, stored, per, "%s: each append stored once", uid)
				seen := map[string]bool{}
				prevOf := map[int64]int64{}
				for _, r := range got[uid] {
					prevOf[r.seq] = r.prev
				}
				for i, m := range stored {
					require.False(t, seen[string(m.Body)], "stored twice: %s", m.Body)
					seen[string(m.Body)] = true
					want := int64(0)
					if i > 0 {
						want = stored[i-1].Seq
					}
					require.Equal(t, want, prevOf[m.Seq], "%s: message %d names its predecessor", uid, i)
				}
			}
		})
	}
}

// TestPipelineLateAnswer: an append whose answer is held back beyond the
// request timeout is retried with the same message id once the connection
// flows again; JetStream's duplicate window makes the retry find the stored
// message, so the push is answered stored, and stored once.
func TestPipelineLateAnswer(t *testing.T) {
	s := natsServers(t, 1)[0]
	p := newHoldProxy(t, strings.TrimPrefix(s.ClientURL(), "nats://"))
	nc, err := nats.Connect(p.url(), nats.PingInterval(time.Hour))
	require.NoError(t, err)
	defer nc.Close()
	c, err := cluster.New(cluster.Config{Conn: nc, Standalone: true, RequestTimeout: 200 * time.Millisecond, AppendTimeout: 10 * time.Second})
	require.NoError(t, err)
	require.NoError(t, c.Open(context.Background()))
	st := c.Store()

	p.hold()
	done := make(chan appendResult, 1)
	m := pack.Message{URI: "/p", Body: []byte("late")}
	st.AppendAsync(context.Background(), "alice", &m, time.Hour, func(seq, prev int64, err error) { done <- appendResult{seq, prev, err} })
	time.Sleep(600 * time.Millisecond) // three request timeouts
	p.release()
	r := <-done
	require.NoError(t, r.err)
	stored, err := st.After(context.Background(), "alice", 0, 0)
	require.NoError(t, err)
	require.Len(t, stored, 1)
	require.Equal(t, r.seq, stored[0].Seq)
}
