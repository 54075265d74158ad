package cluster_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
	"github.com/plexpush/plex/server"
)

// TestRoomMessageAcrossNodes: a /message to a room sent on one node
// reaches members held by the other nodes (the sender's other device
// included, the sending connection not), each copy stored in JetStream
// under its member's seqs: a member offline when it was sent gets it on
// connecting to any node.
func TestRoomMessageAcrossNodes(t *testing.T) {
	ns := natsServers(t, 3)
	all := urls(ns)
	cfg := server.Config{MessagePolicy: func(string, string) bool { return true }}
	var nodes []*plexNode
	for i := range 3 {
		nodes = append(nodes, startPlex(t, ns[i].ClientURL()+","+all, fmt.Sprintf("p%d", i), nodeOpts{connect: noRandomize, cfg: cfg}))
	}
	waitReady(t, nodes...)
	// memberships made on nodes that do not hold the users
	require.NoError(t, nodes[2].Join(server.Room("team"), "alice"))
	require.NoError(t, nodes[0].Join(server.Room("team"), "bob"))
	require.NoError(t, nodes[1].Join(server.Room("team"), "carol"))
	require.Eventually(t, func() bool {
		for _, n := range nodes {
			if len(n.Members(server.Room("team"))) != 3 {
				return false
			}
		}
		return true
	}, waitFor, 10*time.Millisecond, "membership reaches every node")

	phone := dialMessages(t, "alice", "phone", nodes[0].addr)
	laptop := dialMessages(t, "alice", "laptop", nodes[1].addr)
	bob := dialMessages(t, "bob", "b", nodes[2].addr)
	ctx := ctxTimeout(t, waitFor)

	res, err := phone.MessageRoom(ctx, "team", []byte("from-phone"))
	require.NoError(t, err)
	require.Equal(t, 3, res.Stored)
	require.Positive(t, res.Seq, "alice's own copy")
	bob.waitHas(t, "from-phone")
	laptop.waitHas(t, "from-phone")
	for _, m := range append(bob.received(), laptop.received()...) {
		require.Equal(t, "alice", m.Get(pack.MetaFrom))
		require.Equal(t, "team", m.Get(pack.MetaRoom))
		require.Equal(t, res.ID, m.Get(pack.MetaID))
	}

	// from another node; the phone is not the sender now and gets it
	_, err = bob.MessageRoom(ctx, "team", []byte("from-bob"))
	require.NoError(t, err)
	phone.waitHas(t, "from-bob")
	laptop.waitHas(t, "from-bob")
	require.Zero(t, phone.count("from-phone"), "the sending connection does not get its own copy")
	require.Zero(t, bob.count("from-bob"))

	carol := dialMessages(t, "carol", "c", nodes[1].addr)
	carol.waitHas(t, "from-phone", "from-bob")
	carol.requireOnce(t, "from-phone", "from-bob")
	seqs := carol.persistentSeqs()
	require.Len(t, seqs, 2)
	require.Less(t, seqs[0], seqs[1], "carol's own increasing seqs")
	bob.requireOnce(t, "from-phone")
	laptop.requireOnce(t, "from-phone", "from-bob")
}

// dialMessages connects an app that records /message deliveries (the
// shared app helper drops the protocol's URIs, /message among them).
func dialMessages(t *testing.T, uid, device, addr string) *app {
	t.Helper()
	a := &app{uid: uid, seen: make(map[string]int)}
	c, err := client.NewConn(client.ConnConfig{Addrs: []string{addr}, Device: device, Token: plog.Secret(uid),
		Backoff: client.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		OnMessage: func(m *pack.Message) {
			if m.URI != pack.URIMessage {
				return
			}
			a.mu.Lock()
			a.msgs = append(a.msgs, *m)
			a.seen[string(m.Body)]++
			a.mu.Unlock()
		}})
	require.NoError(t, err)
	a.Conn = c
	t.Cleanup(func() { c.Close() })
	require.NoError(t, a.Connect(ctxTimeout(t, waitFor)))
	return a
}
