package cluster_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/cluster"
	"github.com/plexpush/plex/cluster/embedded"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// newStore returns a Store on its own NATS server (stopped at the end).
func newStore(t testing.TB, s *embedded.Server, cfg cluster.Config) *cluster.Store {
	t.Helper()
	nc, err := s.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	cfg.Conn = nc
	c, err := cluster.New(cfg)
	require.NoError(t, err)
	return c.Store()
}

func appendN(t *testing.T, st *cluster.Store, uid string, n int, ttl time.Duration) []int64 {
	t.Helper()
	var seqs []int64
	for i := range n {
		m := pack.Message{URI: "/p", Body: fmt.Appendf(nil, "%s-%d", uid, i)}
		seq, _, err := st.AppendAfter(context.Background(), uid, &m, ttl)
		require.NoError(t, err)
		seqs = append(seqs, seq)
	}
	return seqs
}

func bodies(ms []pack.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, string(m.Body))
	}
	return out
}

func TestStoreSeqAfterAckCursor(t *testing.T) {
	s := natsServers(t, 1)[0]
	st := newStore(t, s, cluster.Config{})
	ctx := context.Background()

	a := appendN(t, st, "alice", 3, time.Hour)
	b := appendN(t, st, "bob", 2, time.Hour)
	requireIncreasing(t, "alice", a)
	require.Greater(t, a[0], int64(1e15), "seqs start at the stream's creation time in µs")
	require.Greater(t, b[0], a[2], "one sequence for all users: per user increasing, with gaps")

	got, err := st.After(ctx, "alice", 0, 0)
	require.NoError(t, err)
	require.Equal(t, []string{"alice-0", "alice-1", "alice-2"}, bodies(got))
	require.Equal(t, a[0], got[0].Seq)
	got, err = st.After(ctx, "alice", a[0], 1)
	require.NoError(t, err)
	require.Equal(t, []string{"alice-1"}, bodies(got), "limit")

	// two devices: a message goes when both acked it
	require.NoError(t, st.Ack(ctx, "alice", "phone", 0))
	require.NoError(t, st.Ack(ctx, "alice", "tablet", a[1]))
	c, err := st.Cursor(ctx, "alice", "tablet")
	require.NoError(t, err)
	require.Equal(t, a[1], c)
	got, _ = st.After(ctx, "alice", 0, 0)
	require.Len(t, got, 3, "phone acked nothing")
	require.NoError(t, st.Ack(ctx, "alice", "phone", a[0]))
	got, _ = st.After(ctx, "alice", 0, 0)
	require.Equal(t, []string{"alice-1", "alice-2"}, bodies(got), "acked by both devices: gone")
	require.NoError(t, st.Ack(ctx, "alice", "phone", a[0]-1), "an ack never lowers a cursor")
	c, _ = st.Cursor(ctx, "alice", "phone")
	require.Equal(t, a[0], c)
	require.NoError(t, st.Ack(ctx, "alice", "phone", b[1]+1_000_000), "an ack beyond the stream is ignored")
	c, _ = st.Cursor(ctx, "alice", "phone")
	require.Equal(t, a[0], c, "it acks nothing the device never received")

	// resume points: kept unless above every stored seq
	r, err := st.Resume(ctx, "alice", "phone", a[1])
	require.NoError(t, err)
	require.Equal(t, a[1], r)
	r, err = st.Resume(ctx, "alice", "phone", b[1]+1_000_000)
	require.NoError(t, err)
	require.Equal(t, a[0], r, "from another store: the device's cursor")

	// everything acked: the next append still numbers higher
	require.NoError(t, st.Ack(ctx, "alice", "phone", a[2]))
	require.NoError(t, st.Ack(ctx, "alice", "tablet", a[2]))
	got, _ = st.After(ctx, "alice", 0, 0)
	require.Empty(t, got)
	next := appendN(t, st, "alice", 1, time.Hour)
	require.Greater(t, next[0], b[1])
}

func TestStoreBoundAndTTL(t *testing.T) {
	s := natsServers(t, 1)[0]
	st := newStore(t, s, cluster.Config{MaxPerUser: 3})
	ctx := context.Background()
	appendN(t, st, "alice", 5, time.Hour)
	got, err := st.After(ctx, "alice", 0, 0)
	require.NoError(t, err)
	require.Equal(t, []string{"alice-2", "alice-3", "alice-4"}, bodies(got), "the oldest go first")

	appendN(t, st, "bob", 1, 0) // below a second: kept for one
	require.Eventually(t, func() bool {
		got, err := st.After(ctx, "bob", 0, 0)
		return err == nil && len(got) == 0
	}, 10*time.Second, 50*time.Millisecond, "expired")
}

// TestStoreSurvivesRestart: the stream, its seqs and the cursors are files.
func TestStoreSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := embedded.Start(embedded.Config{StoreDir: dir})
	require.NoError(t, err)
	st := newStore(t, s, cluster.Config{})
	seqs := appendN(t, st, "alice", 2, time.Hour)
	require.NoError(t, st.Ack(context.Background(), "alice", "phone", seqs[0]))
	st.FlushPurges() // purges run a little after the acks (purger.go)
	s.Shutdown()

	s, err = embedded.Start(embedded.Config{StoreDir: dir})
	require.NoError(t, err)
	defer s.Shutdown()
	st = newStore(t, s, cluster.Config{})
	got, err := st.After(context.Background(), "alice", 0, 0)
	require.NoError(t, err)
	require.Equal(t, []string{"alice-1"}, bodies(got))
	c, err := st.Cursor(context.Background(), "alice", "phone")
	require.NoError(t, err)
	require.Equal(t, seqs[0], c)
	more := appendN(t, st, "alice", 1, time.Hour)
	require.Greater(t, more[0], seqs[1])
}

// TestStoreConcurrentAppend: nodes appending for one user at once chain
// their messages: each names the one before it.
func TestStoreConcurrentAppend(t *testing.T) {
	s := natsServers(t, 1)[0]
	stores := []*cluster.Store{newStore(t, s, cluster.Config{}), newStore(t, s, cluster.Config{}), newStore(t, s, cluster.Config{})}
	type rec struct{ seq, prev int64 }
	out := make(chan rec, 300)
	done := make(chan struct{})
	for _, st := range stores {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 50 {
				m := pack.Message{URI: "/p", Body: []byte("x")}
				seq, prev, err := st.AppendAfter(context.Background(), "alice", &m, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				out <- rec{seq, prev}
			}
		}()
	}
	for range stores {
		<-done
	}
	close(out)
	prevOf := map[int64]int64{}
	for r := range out {
		prevOf[r.seq] = r.prev
	}
	require.Len(t, prevOf, 150)
	got, err := stores[0].After(context.Background(), "alice", 0, 0)
	require.NoError(t, err)
	require.Len(t, got, 150)
	for i, m := range got {
		want := int64(0)
		if i > 0 {
			want = got[i-1].Seq
		}
		require.Equal(t, want, prevOf[m.Seq], "message %d names its predecessor", i)
	}
}

// TestStoreAppendIsIdempotent: an append retried with the same JetStream
// message id (a reply lost in a failover) stores the message once, and the
// duplicate answer is accepted only for the same push.
func TestStoreAppendIsIdempotent(t *testing.T) {
	s := natsServers(t, 1)[0]
	st := newStore(t, s, cluster.Config{})
	m := pack.Message{URI: "/p", Body: []byte("once")}
	s1, p1, err := st.AppendWithID(context.Background(), "alice", &m, time.Hour, "attempt-1")
	require.NoError(t, err)
	other := newStore(t, s, cluster.Config{}) // another node appends in between
	appendN(t, other, "alice", 1, time.Hour)
	s2, p2, err := st.AppendWithID(context.Background(), "alice", &m, time.Hour, "attempt-1")
	require.NoError(t, err)
	require.Equal(t, s1, s2)
	require.Equal(t, p1, p2)
	got, _ := st.After(context.Background(), "alice", 0, 0)
	require.Len(t, got, 2)

	// the same id for another user's push: JetStream answers "duplicate"
	// with alice's seq; that is not bob's push, so it fails loudly
	_, _, err = st.AppendWithID(context.Background(), "bob", &m, time.Hour, "attempt-1")
	require.Error(t, err)
	require.NotErrorIs(t, err, server.ErrOutcomeUnknown, "known not stored")
	got, _ = st.After(context.Background(), "bob", 0, 0)
	require.Empty(t, got)
}

// TestStoreRetryOfAPushAlreadyPurged: the answer to an append is lost, a
// node holding the user fetches the push, writes it and the app acks it
// (purged), then the retry is answered "duplicate" of a message that is no
// longer there. The push was stored: the retry says so, and stores nothing
// again (it failed "outcome unknown" before, and the pusher retried a
// push its user already had: TestKillNATSServer).
func TestStoreRetryOfAPushAlreadyPurged(t *testing.T) {
	s := natsServers(t, 1)[0]
	st := newStore(t, s, cluster.Config{})
	ctx := context.Background()
	m := pack.Message{URI: "/p", Body: []byte("once")}
	s1, _, err := st.AppendWithID(ctx, "alice", &m, time.Hour, "attempt-1")
	require.NoError(t, err)
	require.NoError(t, st.Ack(ctx, "alice", "", s1))
	st.FlushPurges()
	require.Eventually(t, func() bool {
		got, err := newStore(t, s, cluster.Config{}).After(ctx, "alice", 0, 0)
		return err == nil && len(got) == 0
	}, 10*time.Second, 20*time.Millisecond, "purged")

	s2, p2, err := st.AppendWithID(ctx, "alice", &m, time.Hour, "attempt-1")
	require.NoError(t, err)
	require.Equal(t, s1, s2)
	require.Equal(t, int64(-1), p2, "its predecessor is no longer known")
	got, err := newStore(t, s, cluster.Config{}).After(ctx, "alice", 0, 0)
	require.NoError(t, err)
	require.Empty(t, got, "not stored again")
}

// TestStoreMetaIDDeduplicatesNothing: a pusher's meta id is a label; two
// pushes with the same one are two pushes (issue: the second user got
// nothing while both were answered stored).
func TestStoreMetaIDDeduplicatesNothing(t *testing.T) {
	s := natsServers(t, 1)[0]
	st := newStore(t, s, cluster.Config{})
	ctx := context.Background()
	var seqs []int64
	for _, uid := range []string{"alice", "bob", "bob"} {
		m := pack.Message{URI: "/p", Body: []byte("to " + uid), Meta: map[string]string{pack.MetaID: "order-42"}}
		seq, _, err := st.AppendAfter(ctx, uid, &m, time.Hour)
		require.NoError(t, err)
		seqs = append(seqs, seq)
	}
	requireIncreasing(t, "appends", seqs)
	got, _ := st.After(ctx, "bob", 0, 0)
	require.Equal(t, []string{"to bob", "to bob"}, bodies(got))
	require.Equal(t, "order-42", got[0].Get(pack.MetaID), "kept as a meta value")
}

// TestStoreUnavailable: without NATS, operations fail with ErrUnavailable
// within the context instead of hanging.
func TestStoreUnavailable(t *testing.T) {
	nc, err := nats.Connect("nats://127.0.0.1:"+freePort(t), nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1))
	require.NoError(t, err)
	defer nc.Close()
	c, err := cluster.New(cluster.Config{Conn: nc, AppendTimeout: 300 * time.Millisecond})
	require.NoError(t, err)
	m := pack.Message{URI: "/p"}
	_, _, err = c.Store().AppendAfter(context.Background(), "alice", &m, time.Hour)
	require.ErrorIs(t, err, cluster.ErrUnavailable)
	require.NotErrorIs(t, err, server.ErrOutcomeUnknown, "never sent: known not stored")
	_, err = c.Store().After(context.Background(), "alice", 0, 0)
	require.ErrorIs(t, err, cluster.ErrUnavailable)
	require.ErrorIs(t, c.Bus().Health(), cluster.ErrUnavailable)
}
