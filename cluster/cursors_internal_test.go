package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/cluster/embedded"
	"github.com/plexpush/plex/pack"
)

// openStore opens a Store of its own on the NATS server s.
func openStore(t *testing.T, s *embedded.Server, standalone bool) *Store {
	t.Helper()
	nc, err := s.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	c, err := New(Config{Conn: nc, Standalone: standalone})
	require.NoError(t, err)
	require.NoError(t, c.Open(context.Background()))
	return c.Store()
}

func startNATS(t *testing.T) *embedded.Server {
	t.Helper()
	s, err := embedded.Start(embedded.Config{StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(s.Shutdown)
	return s
}

// TestCursorsIdleUsersCostNothing: on a standalone node, the login of a
// user who never acked a stored push reads no cursor (no allocation at
// all, where a bucket read makes dozens) and leaves nothing cached; a user
// who acks one is read and cached, and a registering zero ack is kept
// only in the small fresh cache.
func TestCursorsIdleUsersCostNothing(t *testing.T) {
	st := openStore(t, startNATS(t), true)
	ctx := context.Background()
	for i := range 1000 {
		c, err := st.Cursor(ctx, fmt.Sprintf("u%d", i), "")
		require.NoError(t, err)
		require.Zero(t, c)
	}
	require.Zero(t, st.curs.len()+st.fresh.len(), "idle logins cache nothing")
	allocs := testing.AllocsPerRun(100, func() { _, _ = st.Cursor(ctx, "u1", "phone") })
	require.Zero(t, allocs, "no bucket read for a user without a cursor")

	m := pack.Message{URI: "/p", Body: []byte("x")}
	seq, _, err := st.AppendAfter(ctx, "alice", &m, time.Hour)
	require.NoError(t, err)
	require.NoError(t, st.Ack(ctx, "alice", "phone", seq))
	c, err := st.Cursor(ctx, "alice", "phone")
	require.NoError(t, err)
	require.Equal(t, seq, c)
	_, cached := st.curs.get("alice")
	require.True(t, cached, "a user who acks is cached")

	require.NoError(t, st.Ack(ctx, "bob", "phone", 0)) // an acking app's login registers its device
	_, cached = st.curs.get("bob")
	require.False(t, cached, "a zero cursor is not kept in curs")
	require.Equal(t, 1, st.fresh.len())
	c, err = st.Cursor(ctx, "bob", "phone")
	require.NoError(t, err)
	require.Zero(t, c)
}

// TestCursoredLoadedOnOpen: a standalone store opened on an existing
// bucket (plexd restarted) knows who holds a nonzero cursor, so the
// shortcut never hides one; a store that shares the bucket (not
// standalone) always reads.
func TestCursoredLoadedOnOpen(t *testing.T) {
	s := startNATS(t)
	ctx := context.Background()
	first := openStore(t, s, true)
	m := pack.Message{URI: "/p", Body: []byte("x")}
	seq, _, err := first.AppendAfter(ctx, "alice", &m, time.Hour)
	require.NoError(t, err)
	require.NoError(t, first.Ack(ctx, "alice", "phone", seq))
	require.NoError(t, first.Ack(ctx, "bob", "phone", 0))
	require.NoError(t, first.Ack(ctx, "carol", "", seq))
	require.NoError(t, first.Ack(ctx, "carol", "tablet", 0))

	for _, standalone := range []bool{true, false} {
		st := openStore(t, s, standalone)
		for uid, want := range map[string]int64{"alice": seq, "bob": 0, "carol": seq, "dave": 0} {
			dev := "phone"
			if uid == "carol" {
				dev = ""
			}
			c, err := st.Cursor(ctx, uid, dev)
			require.NoError(t, err)
			require.Equal(t, want, c, "%s (standalone %v)", uid, standalone)
		}
		require.Equal(t, !standalone, st.cursored.may("bob"), "bob holds only a zero cursor")
		require.True(t, st.cursored.may("carol"))
	}
}

// TestHintsAndSetsBounded: a hints map is dropped whole when a new user
// would pass its cap; a uidSet over its cap answers "may" for everyone.
func TestHintsAndSetsBounded(t *testing.T) {
	h := newHintsCap[int](2)
	h.set("a", 1)
	h.set("b", 2)
	h.set("b", 3) // an update does not count
	require.Equal(t, 2, h.len())
	h.set("c", 4)
	require.Equal(t, 1, h.len())
	v, ok := h.get("c")
	require.True(t, ok)
	require.Equal(t, 4, v)

	u := newUIDSet()
	require.True(t, u.may("x"), "not loaded: may")
	u.cap = 2
	u.loaded(map[uint64]struct{}{})
	require.False(t, u.may("x"))
	u.add("x")
	u.add("x")
	u.add("y")
	require.True(t, u.may("x"))
	require.False(t, u.may("z"))
	u.add("z") // over the cap: unknown again
	require.True(t, u.may("w"))
}
