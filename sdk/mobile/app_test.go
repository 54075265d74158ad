package plexmobile_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/pack"
	plexmobile "github.com/plexpush/plex/sdk/mobile"
	"github.com/plexpush/plex/server"
)

// Config.App logs the Client in to that app: the app's pushes reach it.
func TestConfigAppLogsInToTheApp(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{Apps: []server.App{{ID: "talk", Authenticator: auth.None{}, InnerSecret: "talk-secret"}}})
	cfg := config(n, "alice")
	cfg.App = "talk"
	c, r := newClient(t, cfg)
	require.NoError(t, c.Connect())
	r.expectStates(t, plexmobile.StateConnecting, plexmobile.StateOnline)

	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	out, err := n.Push(ctx, server.User("alice").In("talk"), pack.Message{URI: "/p", Body: []byte("talk")})
	require.NoError(t, err)
	require.Equal(t, 1, out.Delivered, "the talk app's alice is this Client")
	require.Equal(t, "talk", r.nextMsg(t).body)
	out, err = n.Push(ctx, server.User("alice"), pack.Message{URI: "/p", Body: []byte("default")})
	require.NoError(t, err)
	require.Equal(t, 1, out.Offline, "the default app's alice is someone else")
}
