package server_test

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/server"
)

var _ server.OpenAuthenticator = auth.None{}

// TestOpenAuthRefusedOnPublicAddress: the library refuses what plexd
// refuses without -force (STYLE 19): an open authenticator (auth.None) on
// an address that takes app logins and is not loopback-only, unless
// Config.AllowOpenAuth says so by name.
func TestOpenAuthRefusedOnPublicAddress(t *testing.T) {
	jwt, err := auth.NewJWT(auth.JWTConfig{HMACSecret: []byte("0123456789abcdef0123456789abcdef")})
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		cfg     server.Config
		refused bool
	}{
		{"zero Addr is loopback", server.Config{Authenticator: auth.None{}}, false},
		{"README's old example", server.Config{Addr: ":9578", Authenticator: auth.None{}}, true},
		{"every IPv4 interface", server.Config{Addr: "0.0.0.0:9578", Authenticator: auth.None{}}, true},
		{"a LAN address", server.Config{Addr: "10.0.0.7:9578", Authenticator: auth.None{}}, true},
		{"127.0.0.1", server.Config{Addr: "127.0.0.1:0", Authenticator: auth.None{}}, false},
		{"localhost", server.Config{Addr: "localhost:9578", Authenticator: auth.None{}}, false},
		{"::1", server.Config{Addr: "[::1]:9578", Authenticator: auth.None{}}, false},
		{"public WebSocket logins", server.Config{HTTPAddr: ":9579", Authenticator: auth.None{}}, true},
		{"public HTTP without WebSocket", server.Config{HTTPAddr: ":9579", DisableWebSocket: true, Authenticator: auth.None{}}, false},
		{"public inner-only listener", server.Config{InnerAddr: ":9577", Authenticator: auth.None{}}, false},
		{"opt-in by name", server.Config{Addr: ":9578", HTTPAddr: ":9579", Authenticator: auth.None{}, AllowOpenAuth: true}, false},
		{"a real authenticator", server.Config{Addr: ":9578", Authenticator: jwt}, false},
		{"no authenticator", server.Config{Addr: ":9578"}, false},
		{"an app with auth.None", server.Config{Addr: ":9578", Authenticator: jwt,
			Apps: []server.App{{ID: "shop", Authenticator: auth.None{}, InnerSecret: "s"}}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := server.New(tc.cfg)
			if tc.refused {
				require.ErrorIs(t, err, server.ErrOpenAuth)
				require.Nil(t, srv)
				return
			}
			require.NoError(t, err)
			require.NoError(t, srv.Close())
		})
	}
}

// TestOpenAuthRefusedOnPublicListener: a listener given to Serve or
// ServeHTTP is checked when it is given, since New cannot know its
// address; it is closed and nothing is served.
func TestOpenAuthRefusedOnPublicListener(t *testing.T) {
	for _, serve := range []struct {
		name string
		fn   func(*server.Server, net.Listener) error
	}{
		{"Serve", (*server.Server).Serve},
		{"ServeAPI", (*server.Server).ServeAPI},
	} {
		t.Run(serve.name, func(t *testing.T) {
			srv, err := server.New(server.Config{Authenticator: auth.None{}})
			require.NoError(t, err)
			defer srv.Close()
			ln, err := net.Listen("tcp", "0.0.0.0:0")
			require.NoError(t, err)
			done := make(chan error, 1)
			go func() { done <- serve.fn(srv, ln) }()
			select {
			case err := <-done:
				require.ErrorIs(t, err, server.ErrOpenAuth)
			case <-time.After(5 * time.Second):
				t.Fatalf("%s serves an open authenticator on %s", serve.name, ln.Addr())
			}
			_, err = ln.Accept()
			require.ErrorIs(t, err, net.ErrClosed, "the refused listener is closed")
		})
	}
	t.Run("opt-in", func(t *testing.T) {
		srv, err := server.New(server.Config{Authenticator: auth.None{}, AllowOpenAuth: true})
		require.NoError(t, err)
		ln, err := net.Listen("tcp", "0.0.0.0:0")
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ln) }()
		p := dial(t, "127.0.0.1:"+portOf(t, ln.Addr().String()))
		p.auth("alice", nil)
		require.NoError(t, srv.Close())
		require.ErrorIs(t, <-done, server.ErrServerClosed)
	})
}

// TestOpenAuthAppAddedLater: SetApps applies the guard to the listeners
// already served.
func TestOpenAuthAppAddedLater(t *testing.T) {
	srv, err := server.New(server.Config{Authenticator: nilAuthOK{}})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	require.Eventually(t, func() bool { return srv.Addr() != nil }, 5*time.Second, 5*time.Millisecond)
	err = srv.SetApps([]server.App{{ID: "shop", Authenticator: auth.None{}, InnerSecret: "s"}})
	require.ErrorIs(t, err, server.ErrOpenAuth)
	require.ErrorContains(t, err, `app "shop"`)
	require.NoError(t, srv.SetApps([]server.App{{ID: "shop", Authenticator: nilAuthOK{}, InnerSecret: "s"}}))
	require.NoError(t, srv.Close())
	require.ErrorIs(t, <-done, server.ErrServerClosed)
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	return port
}
