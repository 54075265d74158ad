package cluster_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/cluster"
)

// TestTimeoutsAreOrdered: a JetStream request's deadline is inside the
// node's store deadline, and that one leaves PlexClient time to receive
// the node's code (3005/3008) before its own RequestTimeout, with a margin
// for the network and a loaded node (docs/operations.md, Timeouts).
func TestTimeoutsAreOrdered(t *testing.T) {
	require.Less(t, cluster.DefaultRequestTimeout, cluster.DefaultAppendTimeout)
	require.LessOrEqual(t, cluster.DefaultAppendTimeout+2*time.Second, client.DefaultRequestTimeout)
}
