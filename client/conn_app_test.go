package client_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// A Conn with App logs in to that app (meta "app"): pushes to the app's
// user reach it, pushes to the default app's user of the same name do not.
func TestConnLogsInToItsApp(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{Apps: []server.App{{ID: "talk", Authenticator: auth.None{}, InnerSecret: "talk-secret"}}})
	talk := dialApp(t, n.Addr, "alice", client.ConnConfig{App: "talk"})
	dflt := dialApp(t, n.Addr, "alice", client.ConnConfig{})

	out, err := n.Push(ctxT(t), server.User("alice").In("talk"), pack.Message{URI: "/x", Body: []byte("talk's alice")})
	require.NoError(t, err)
	require.Equal(t, 1, out.Delivered, "only the talk app's alice")
	require.Equal(t, "talk's alice", string(talk.recv(t).Body))

	out, err = n.Push(ctxT(t), server.User("alice"), pack.Message{URI: "/x", Body: []byte("default alice")})
	require.NoError(t, err)
	require.Equal(t, 1, out.Delivered)
	require.Equal(t, "default alice", string(dflt.recv(t).Body))

	bad := newApp(t, client.ConnConfig{Addrs: []string{n.Addr}, Token: "alice", App: "nope"})
	err = bad.Connect(ctxT(t))
	require.Error(t, err, "an app the node does not serve")
	var ce *pack.CodeError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, pack.CodeAuthFailed, ce.Code)
}
