package cluster_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/server"
)

// TestStatsListNodes: GET /plex/v1/stats on any node lists every live node
// of the cluster with its counts (what the operator console shows).
func TestStatsListNodes(t *testing.T) {
	ns := natsServers(t, 1)
	p0 := startPlex(t, ns[0].ClientURL(), "p0", nodeOpts{})
	p1 := startPlex(t, ns[0].ClientURL(), "p1", nodeOpts{})
	waitReady(t, p0, p1)
	dialApp(t, "alice", "", p1.addr)

	stats := func() (out struct {
		Node  string            `json:"node"`
		Nodes []server.NodeInfo `json:"nodes"`
	}) {
		req, err := http.NewRequest("GET", "http://"+p0.http+"/plex/v1/stats", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return out
	}
	require.Eventually(t, func() bool {
		st := stats()
		if st.Node != "p0" || len(st.Nodes) != 2 {
			return false
		}
		return st.Nodes[0].ID == "p0" && st.Nodes[1].ID == "p1" && st.Nodes[1].Connections == 1 &&
			st.Nodes[1].Users == 1 && st.Nodes[1].OK && st.Nodes[1].Addr == p1.addr
	}, waitFor, 50*time.Millisecond, "p0's stats list both nodes with p1's connection")
}
