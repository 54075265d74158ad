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
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

func TestApp(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	logging.SetLevel(logging.LevelNone)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv, err := server.New(server.Config{Authenticator: auth.None{}})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(ln)
	defer srv.Shutdown(ctx)

	var out, errOut bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", ln.Addr().String(), "-token", "alice", "-n", "2"}, &out, &errOut)
	}()
	require.Eventually(t, func() bool { return srv.Online(server.User("alice")) }, 20*time.Second, time.Millisecond)
	_, err = srv.Push(ctx, server.User("alice"), pack.Message{URI: "/chat", Body: []byte("one")})
	require.NoError(t, err)
	_, err = srv.Push(ctx, server.User("alice"), pack.Message{URI: "/chat", Body: []byte("two")}, server.Persist(0))
	require.NoError(t, err)
	require.NoError(t, <-done, errOut.String())
	require.Equal(t, "state: connecting\nstate: online\npush /chat \"one\"\npush /chat \"two\" seq=1\nstate: closed\n", out.String())

	// A refused token ends the app with the error.
	out.Reset()
	err = run(ctx, []string{"-addr", ln.Addr().String(), "-token", "not valid!"}, &out, &errOut)
	require.ErrorIs(t, err, pack.CodeAuthFailed)
}

// TestAppNeedsAnAddress: without -addr or -discovery the error names the
// flags, not the library's fields.
func TestAppNeedsAnAddress(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-token", "alice"}, &out, &errOut)
	require.ErrorContains(t, err, "-addr")
	require.ErrorContains(t, err, "-discovery")
	require.NotContains(t, err.Error(), "ConnConfig")
}
