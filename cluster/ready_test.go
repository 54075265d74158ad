package cluster_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/cluster/embedded"
)

// TestReadinessSplitsRoutingFromStoring: with two of three NATS servers
// gone, JetStream has no quorum: a node's /readyz?store=1 (can a persistent
// push be stored now?) turns 503, while /readyz (can the node take apps
// and route pushes?) stays 200 — a load balancer keeps the node; both are
// 200 again once the servers are back, without restarting the node. (Both
// were 200 for the whole outage: the stream info probe answers without a
// leader.)
func TestReadinessSplitsRoutingFromStoring(t *testing.T) {
	var routes, clients []string
	for range 3 {
		routes = append(routes, "127.0.0.1:"+freePort(t))
		clients = append(clients, "127.0.0.1:"+freePort(t))
	}
	cfgs := make([]embedded.Config, 3)
	servers := make([]*embedded.Server, 3)
	start := func(i int) {
		s, err := embedded.Start(cfgs[i])
		require.NoError(t, err)
		servers[i] = s
	}
	for i := range 3 {
		cfgs[i] = embedded.Config{StoreDir: t.TempDir(), Listen: clients[i], Name: fmt.Sprintf("n%d", i),
			ClusterName: "test", ClusterListen: routes[i], Routes: routes}
		start(i)
	}
	t.Cleanup(func() {
		for _, s := range servers {
			s.Shutdown()
		}
	})
	waitJetStream(t, servers[0])
	n := startPlex(t, "nats://"+clients[0], "p0", nodeOpts{connect: noRandomize})
	ready := func(q string) int { return getStatus("http://" + n.http + "/readyz" + q) }
	require.Eventually(t, func() bool { return ready("?store=1") == 200 }, waitFor, 20*time.Millisecond, "store ready")
	require.Equal(t, 200, ready(""))

	servers[1].Shutdown()
	servers[2].Shutdown()
	require.Eventually(t, func() bool { return ready("?store=1") == 503 }, waitFor, 50*time.Millisecond,
		"no quorum: a persistent push cannot be stored")
	require.Equal(t, 200, ready(""), "the node still takes apps and routes transient pushes")

	start(1)
	start(2)
	require.Eventually(t, func() bool { return ready("?store=1") == 200 }, 2*waitFor, 50*time.Millisecond,
		"stores again without a restart")
	require.Equal(t, 200, ready(""))
}
