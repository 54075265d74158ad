package client_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// An app written to the original protocol (big-endian JSON, /auth/server,
// /heartbeat, no meta, no acks) receives pushes sent by PlexClient.
func TestOriginalAppReceivesPlexClientPush(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	old := dialRaw(t, n.Addr)
	old.send(pack.Message{URI: pack.URIAuth, Body: []byte("alice")})
	require.Equal(t, pack.URIAuthSuccess, old.recv().URI)
	old.send(pack.Message{URI: pack.URIHeartbeat})
	require.Equal(t, pack.URIHeartbeat, old.recv().URI, "the node echoes /heartbeat")

	pc := pusher(t, client.Config{Addrs: []string{n.Addr}})
	res, err := pc.Send(ctxT(t), "alice", "/chat", []byte(`hi <"there">`))
	require.NoError(t, err)
	require.Equal(t, client.Result{Delivered: 1}, res)
	m := old.recvSkip()
	require.Equal(t, pack.Message{URI: "/chat", Body: []byte(`hi <"there">`)}, m,
		"a transient push reaches an original app in the original shape")

	// A persistent push reaches it once, when written; the meta it carries
	// is ignored by original apps (unknown JSON fields).
	res, err = pc.Send(ctxT(t), "alice", "/chat", []byte("kept"), client.Persist(0))
	require.NoError(t, err)
	require.Equal(t, client.Result{Delivered: 1, Stored: 1, Seq: 1}, res)
	m = old.recvSkip()
	require.Equal(t, "/chat", m.URI)
	require.Equal(t, "kept", string(m.Body))
	require.Equal(t, int64(1), m.Seq)

	// SendLegacy speaks /logic/send/msg; it reaches the same app.
	require.NoError(t, pc.SendLegacy(ctxT(t), "alice", "/chat", []byte("legacy")))
	m = old.recvSkip()
	require.Equal(t, pack.Message{URI: "/chat", Body: []byte("legacy")}, m)
}

// A push client speaking only the original /inner/auth/server +
// /logic/send/msg reaches a client.Conn app.
func TestOriginalPushClientReachesConn(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	a := dialApp(t, n.Addr, "bob", client.ConnConfig{})

	pushc := dialRaw(t, n.Addr)
	pushc.send(pack.Message{URI: pack.URIInnerAuth, Body: []byte(secret)})
	require.Equal(t, pack.URIAuthSuccess, pushc.recv().URI)
	body, err := json.Marshal(map[string]string{"uid": "bob", "uri": "/chat", "body": "hello"})
	require.NoError(t, err)
	pushc.send(pack.Message{URI: pack.URILegacyPush, Body: body})

	m := a.recv(t)
	require.Equal(t, "/chat", m.URI)
	require.Equal(t, "hello", string(m.Body))
}
