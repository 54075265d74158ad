package cluster_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// TestOutcomeIsClusterTrue: a push to one user, through any node, is
// offline only for a user no node holds, and delivered counts the
// connections of the pushing node, or, when it holds none, of the first
// other node that answered: a user on another node, on two other nodes, on
// the pushing node and another, and on none; transient and persistent.
func TestOutcomeIsClusterTrue(t *testing.T) {
	nodes, _ := threeNodes(t)
	dialApp(t, "bob", "b1", nodes[1].addr)  // bob on p1 only
	dialApp(t, "dave", "d1", nodes[1].addr) // dave on p1 and p2
	dialApp(t, "dave", "d2", nodes[2].addr)
	dialApp(t, "erin", "e0", nodes[0].addr) // erin on p0 and p2
	dialApp(t, "erin", "e2", nodes[2].addr)
	ctx := ctxTimeout(t, waitFor)
	require.Eventually(t, func() bool {
		return nodes[0].Online(server.User("bob")) && nodes[0].Online(server.User("dave")) && nodes[1].Online(server.User("erin"))
	}, waitFor, 10*time.Millisecond, "presence reaches every node")

	for _, persist := range []bool{false, true} {
		var opts []server.PushOption
		stored := 0
		if persist {
			opts, stored = append(opts, server.Persist(0)), 1
		}
		for _, c := range []struct {
			uid       string
			delivered int
			offline   int
		}{{"bob", 1, 0}, {"dave", 1, 0}, {"erin", 1, 0}, {"nobody", 0, 1}} {
			out, err := nodes[0].Push(ctx, server.User(c.uid), pack.Message{URI: "/o", Body: []byte("x")}, opts...)
			require.NoError(t, err)
			require.Equal(t, c.delivered, out.Delivered, "%s persist=%v: %+v", c.uid, persist, out)
			require.Equal(t, c.offline, out.Offline, "%s persist=%v: %+v", c.uid, persist, out)
			require.Equal(t, stored, out.Stored, "%s persist=%v", c.uid, persist)
		}
	}
	// several users at once add up the same way
	out, err := nodes[0].Push(ctx, server.Users("bob", "dave", "erin", "nobody"), pack.Message{URI: "/o", Body: []byte("y")})
	require.NoError(t, err)
	require.Equal(t, 3, out.Delivered)
	require.Equal(t, 1, out.Offline)
}
