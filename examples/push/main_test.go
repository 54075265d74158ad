package main

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/lesismal/nbio/logging"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

func TestPush(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	logging.SetLevel(logging.LevelNone)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv, err := server.New(server.Config{Authenticator: auth.None{}, InnerSecret: "s"})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(ln)
	defer srv.Shutdown(ctx)

	got := make(chan *pack.Message, 10)
	app, err := client.Dial(ctx, client.ConnConfig{Addrs: []string{ln.Addr().String()}, Token: "alice",
		OnMessage: func(m *pack.Message) { got <- m }})
	require.NoError(t, err)
	defer app.Close()

	var out, errOut bytes.Buffer
	require.NoError(t, run(ctx, []string{"-addr", ln.Addr().String(), "-secret", "s", "-uid", "alice",
		"-body", "hi", "-n", "2", "-persist", "1h"}, &out, &errOut), errOut.String())
	require.Equal(t, "delivered=1 stored=1 offline=0 seq=1\ndelivered=1 stored=1 offline=0 seq=2\n", out.String())
	require.Equal(t, "hi 1", string((<-got).Body))
	require.Equal(t, "hi 2", string((<-got).Body))

	out.Reset()
	require.NoError(t, run(ctx, []string{"-addr", ln.Addr().String(), "-secret", "s", "-all", "-uri", "/news"}, &out, &errOut))
	require.Equal(t, "delivered=1 stored=0 offline=0 seq=0\n", out.String())

	require.Error(t, run(ctx, []string{"-addr", ln.Addr().String()}, &out, &errOut), "no secret")
	require.ErrorIs(t, run(ctx, []string{"-addr", ln.Addr().String(), "-secret", "bad", "-uid", "a"}, &out, &errOut), client.ErrAuth)
}
