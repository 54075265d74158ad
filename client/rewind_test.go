package client_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// TestConnRewindsToTheNodesResumePoint: an app holding seqs from a store
// that no longer exists (LastSeq 2^62, beyond what the memory store can
// number above) is told the node's resume point in /auth/success; it then
// takes new, lower seqs instead of dropping them as duplicates, and its
// acks move the device's cursor from there — never to the old seq, which
// would ack everything the node stores for the device.
func TestConnRewindsToTheNodesResumePoint(t *testing.T) {
	st := server.NewMemoryStore(server.MemoryStoreConfig{})
	n := startNode(t, server.Config{Store: st})
	// The first state callback (connecting) is slow, so the dispatcher
	// applies the rewind late: the new connection must not ack the old
	// seq meanwhile.
	var slowed bool
	a := newApp(t, client.ConnConfig{Addrs: []string{n.Addr}, Token: "alice", Device: "phone", LastSeq: 1 << 62,
		OnState: func(client.State, error) {
			if !slowed {
				slowed = true
				time.Sleep(300 * time.Millisecond)
			}
		}})
	require.NoError(t, a.Connect(ctxT(t)))
	var last int64
	for i := range 3 {
		out, err := n.Push(context.Background(), server.User("alice"), pack.Message{URI: "/p", Body: fmt.Appendf(nil, "m%d", i)}, server.Persist(time.Hour))
		require.NoError(t, err)
		require.Equal(t, 1, out.Delivered)
		last = out.Seq
	}
	for i := range 3 {
		m := a.recv(t)
		require.Equal(t, fmt.Sprintf("m%d", i), string(m.Body), "not dropped as a duplicate")
	}
	require.Eventually(t, func() bool {
		c, err := st.Cursor(context.Background(), "alice", "phone")
		return err == nil && c == last
	}, waitFor, 10*time.Millisecond, "the device's cursor follows the new seqs")
	c, _ := st.Cursor(context.Background(), "alice", "phone")
	require.Less(t, c, int64(1<<62), "the old seq was never acked")
}
