package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
)

// TestThreeNodesClusterTheirEmbeddedNATS: three plexd nodes with
// -cluster-listen and -cluster-peers and nothing else form one cluster:
// JetStream replicated three times, a push through any node reaches a user
// on another, persistent pushes are stored cluster-wide, presence and
// discovery see every node, and a node restarted later catches up.
func TestThreeNodesClusterTheirEmbeddedNATS(t *testing.T) {
	routes := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	peers := strings.Join(routes, ",")
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	start := func(i int) *plexd {
		return runPlexd(t, "-data-dir", dirs[i], "-cluster-listen", routes[i], "-cluster-peers", peers,
			"-cluster-name", "test", "-node-heartbeat", "200ms", "-node", fmt.Sprintf("n%d", i))
	}
	nodes := []*plexd{start(0), start(1), start(2)}
	for _, p := range nodes {
		require.Eventually(t, func() bool { return p.status("/readyz?store=1") == 200 }, 60*time.Second, 50*time.Millisecond,
			"store ready (JetStream quorum): %s", p.stderr.String())
	}

	r, _ := login(t, nodes[1].addrs["addr"], "alice")                     // alice on n1
	out := nodes[0].push(t, `{"uid":"alice","uri":"/t","body":"via n0"}`) // through n0
	require.EqualValues(t, 0, out["offline"], "held by n1, not offline: %v", out)
	require.LessOrEqual(t, out["delivered"], 1.0, "n1's connection, or unconfirmed on a loaded machine: %v", out)
	require.Equal(t, "via n0", string(nextPush(t, r).Body))
	out = nodes[2].push(t, `{"uid":"alice","uri":"/p","body":"stored","persist":true}`)
	require.EqualValues(t, 1, out["stored"])
	require.EqualValues(t, 0, out["offline"])
	m := nextPush(t, r)
	require.Equal(t, "stored", string(m.Body))
	require.Equal(t, "1", m.Get(pack.MetaPersist))

	get := func(p *plexd, path string) string {
		req, _ := http.NewRequest("GET", "http://"+p.addrs["http"]+path, nil)
		req.Header.Set("Authorization", "Bearer s3cret")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	require.Contains(t, get(nodes[2], "/plex/v1/online?uid=alice"), `"alice":true`, "presence across nodes")
	require.Eventually(t, func() bool {
		s := get(nodes[0], "/plex/v1/stats")
		return strings.Contains(s, `"n1"`) && strings.Contains(s, `"n2"`)
	}, 10*time.Second, 50*time.Millisecond, "every node in the cluster's stats")

	// n2 stops; a persistent push for bob, who is offline, is stored by
	// the two that remain (a majority); n2 comes back with the same data
	// directory and serves it to bob.
	nodes[2].stop(t)
	out = nodes[0].push(t, `{"uid":"bob","uri":"/p","body":"while n2 was down","persist":true}`)
	require.EqualValues(t, 1, out["stored"])
	n2 := start(2)
	require.Eventually(t, func() bool { return n2.status("/readyz?store=1") == 200 }, 60*time.Second, 50*time.Millisecond)
	rb, _ := login(t, n2.addrs["addr"], "bob")
	var got pack.Message
	require.NoError(t, rb.ReadMessage(&got))
	for got.URI == pack.URIHeartbeat {
		require.NoError(t, rb.ReadMessage(&got))
	}
	require.Equal(t, "while n2 was down", string(got.Body))
}

// Settings that cannot form a cluster are refused at start.
func TestClusterFlagsValidated(t *testing.T) {
	for _, args := range [][]string{
		{"-cluster-peers", "127.0.0.1:1"},
		{"-cluster-listen", "127.0.0.1:0", "-inner-secret", "x", "-nats", "nats://127.0.0.1:4222"},
		{"-cluster-listen", "127.0.0.1:0", "-inner-secret", "x", "-cluster-name", " "},
		{"-cluster-listen", "127.0.0.1:0"}, // no inner secret
		{"-cluster-listen", "127.0.0.1:7001", "-inner-secret", "x", "-cluster-peers", "127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7001"},
		{"-cluster-listen", "127.0.0.1:7001", "-inner-secret", "x", "-cluster-peers", "no-port"},
	} {
		_, err := parseOptions(args, noEnv)
		require.Error(t, err, "%v", args)
	}
}
