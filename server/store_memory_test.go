package server_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/server"
)

// TestMemoryStoreBoundsDevices: a user's device cursors are bounded; a
// new device beyond MaxDevices evicts the one furthest behind, so that
// thousands of device ids cannot make every login of the user slower.
func TestMemoryStoreBoundsDevices(t *testing.T) {
	ctx := context.Background()
	st := server.NewMemoryStore(server.MemoryStoreConfig{MaxDevices: 3})
	for i, dev := range []string{"a", "b", "c"} {
		require.NoError(t, st.Ack(ctx, "alice", dev, int64(10-i))) // c is furthest behind (8)
	}
	require.NoError(t, st.Ack(ctx, "alice", "b", 11)) // known: no eviction
	for _, dev := range []string{"a", "b", "c"} {
		cur, err := st.Cursor(ctx, "alice", dev)
		require.NoError(t, err)
		require.NotZero(t, cur, dev)
	}
	require.NoError(t, st.Ack(ctx, "alice", "d", 12))
	want := map[string]int64{"a": 10, "b": 11, "c": 0, "d": 12}
	for dev, w := range want {
		cur, err := st.Cursor(ctx, "alice", dev)
		require.NoError(t, err)
		require.Equal(t, w, cur, fmt.Sprintf("device %s", dev))
	}
}
