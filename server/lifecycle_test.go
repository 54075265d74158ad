package server_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// TestListenAndServeFailsWhole: when one listener cannot be opened,
// ListenAndServe returns the error and nothing accepts connections (the
// inner listener used to keep taking push clients).
func TestListenAndServeFailsWhole(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	inner := listen(t)
	innerAddr := inner.Addr().String()
	inner.Close()
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", InnerAddr: innerAddr, HTTPAddr: busy.Addr().String(),
		Authenticator: auth.None{}, InnerSecret: secret})
	require.NoError(t, err)
	defer srv.Close()
	require.Error(t, srv.ListenAndServe())
	time.Sleep(50 * time.Millisecond)
	if c, err := net.DialTimeout("tcp", innerAddr, time.Second); err == nil {
		c.Close()
		t.Fatal("the inner listener accepts although ListenAndServe failed")
	}
}

// TestSessionSendAfterClose: Send on a closed (or closing) session returns
// ErrConnClosed instead of nil while dropping the frame.
func TestSessionSendAfterClose(t *testing.T) {
	errc := make(chan error, 1)
	n := startNode(t, server.Config{OnUpstream: func(s *server.Session, m *pack.Message) {
		s.Close(pack.CodeForbidden, "bye")
		errc <- s.Send(&pack.Message{URI: "/after"})
	}})
	p := app(t, n.Addr, "alice", nil)
	p.send(pack.Message{URI: "/hello"})
	select {
	case err := <-errc:
		require.True(t, errors.Is(err, server.ErrConnClosed), "got %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no upstream")
	}
	p.expectClosed(pack.URIDisconnect, pack.CodeForbidden)
}
