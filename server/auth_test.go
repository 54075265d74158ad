package server_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

func TestAuthSuccessAnnouncesSession(t *testing.T) {
	n := startNode(t, server.Config{HeartbeatInterval: 2 * time.Second, NodeID: "n1"})
	p := dial(t, n.Addr)
	info := p.auth("alice", map[string]string{pack.MetaAcks: "1"})
	require.Equal(t, "alice", info.UID)
	require.Equal(t, "n1", info.Node)
	require.Equal(t, int64(2000), info.HeartbeatMS)
	require.Equal(t, int64(5000), info.TimeoutMS)
	require.Equal(t, pack.DefaultLimit, info.MaxFrame)
	require.True(t, info.Acks)
	require.NotEmpty(t, info.Conn)
}

func TestAuthFailedClosesConnection(t *testing.T) {
	// Original defect: failed auth left the socket open.
	n := startNode(t, server.Config{})
	p := dial(t, n.Addr)
	p.send(pack.Message{URI: pack.URIAuth, Body: []byte("not a valid uid!")})
	m := p.expectClosed(pack.URIAuthFailed, pack.CodeAuthFailed)
	require.NotEmpty(t, m.Body, "the original clients read the reason from the body")
	require.False(t, pack.CodeAuthFailed.Reconnect())
}

func TestAuthenticatorOutageSaysRetry(t *testing.T) {
	n := startNode(t, server.Config{Authenticator: auth.Func(
		func(context.Context, string, net.Addr) (string, error) { return "", errors.New("webhook down") })})
	p := dial(t, n.Addr)
	p.send(pack.Message{URI: pack.URIAuth, Body: []byte("alice")})
	m := p.expectClosed(pack.URIAuthFailed, pack.CodeInternal)
	require.True(t, pack.ErrorOf(&m).Code.Reconnect())
}

func TestNoAuthenticatorRefusesApps(t *testing.T) {
	n := startNode(t, server.Config{Authenticator: nilAuth{}})
	p := dial(t, n.Addr)
	p.send(pack.Message{URI: pack.URIAuth, Body: []byte("alice")})
	p.expectClosed(pack.URIAuthFailed, pack.CodeAuthFailed)
}

type nilAuth struct{}

func (nilAuth) Authenticate(context.Context, string, net.Addr) (string, error) {
	return "", nil // an empty uid is a refusal, never an anonymous login
}

func TestLegacyAuthenticatorAdapter(t *testing.T) {
	n := startNode(t, server.Config{Authenticator: auth.Legacy(func(body string) (bool, string) {
		if body == "good" {
			return true, "u1"
		}
		return false, "nope"
	})})
	p := dial(t, n.Addr)
	require.Equal(t, "u1", p.auth("good", nil).UID)
	q := dial(t, n.Addr)
	q.send(pack.Message{URI: pack.URIAuth, Body: []byte("bad")})
	q.expectClosed(pack.URIAuthFailed, pack.CodeAuthFailed)
}

func TestFirstFrameMustAuthenticate(t *testing.T) {
	for _, uri := range []string{pack.URILegacyPush, pack.URIPush, "/chat", pack.URIAck} {
		t.Run(uri, func(t *testing.T) {
			n := startNode(t, server.Config{})
			p := dial(t, n.Addr)
			p.send(pack.Message{URI: uri, Body: []byte(`{"uid":"bob","uri":"/x","body":"y"}`)})
			p.expectClosed(pack.URIAuthFailed, pack.CodeAuthFailed)
		})
	}
}

func TestAuthTimeout(t *testing.T) {
	n := startNode(t, server.Config{AuthTimeout: 200 * time.Millisecond})
	p := dial(t, n.Addr)
	p.expectClosed(pack.URIDisconnect, pack.CodeAuthTimeout)
}

func TestSlowAuthenticatorDoesNotBlockOthers(t *testing.T) {
	release := make(chan struct{})
	n := startNode(t, server.Config{Authenticator: auth.Func(
		func(ctx context.Context, token string, _ net.Addr) (string, error) {
			if token == "slow" {
				select {
				case <-release:
				case <-ctx.Done():
				}
			}
			return token, nil
		})})
	slow := dial(t, n.Addr)
	slow.send(pack.Message{URI: pack.URIAuth, Body: []byte("slow")})
	// frames sent before auth completes wait, in order, and are answered after
	slow.send(pack.Message{URI: pack.URIHeartbeat})
	fast := app(t, n.Addr, "fast", nil) // served while "slow" is still pending
	fast.send(pack.Message{URI: pack.URIHeartbeat})
	require.Equal(t, pack.URIHeartbeat, fast.recv().URI)
	close(release)
	require.Equal(t, pack.URIAuthSuccess, slow.recv().URI)
	require.Equal(t, pack.URIHeartbeat, slow.recv().URI)
}

func TestInnerAuth(t *testing.T) {
	n := startNode(t, server.Config{})
	pusher(t, n.Addr)  // correct secret
	for i := range 5 { // repeated wrong passwords: each refused and closed
		p := dial(t, n.Addr)
		p.send(pack.Message{URI: pack.URIInnerAuth, Body: []byte("wrong" + strings.Repeat("x", i))})
		p.expectClosed(pack.URIAuthFailed, pack.CodeAuthFailed)
	}
}

func TestInnerAuthDisabledWithoutSecret(t *testing.T) {
	srv, err := server.New(server.Config{Authenticator: auth.None{}})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	p := dial(t, ln.Addr().String())
	p.send(pack.Message{URI: pack.URIInnerAuth, Body: []byte("")})
	p.expectClosed(pack.URIAuthFailed, pack.CodeAuthFailed)
}

func TestInnerListenerSeparation(t *testing.T) {
	_, addr, inner := startInnerNode(t, server.Config{Authenticator: auth.None{}, InnerSecret: secret, InnerAddr: "127.0.0.1:0"})

	// push clients are refused on the app listener...
	p := dial(t, addr)
	p.send(pack.Message{URI: pack.URIInnerAuth, Body: []byte(secret)})
	p.expectClosed(pack.URIAuthFailed, pack.CodeAuthFailed)
	// ...apps on the inner one
	a := dial(t, inner)
	a.send(pack.Message{URI: pack.URIAuth, Body: []byte("alice")})
	a.expectClosed(pack.URIAuthFailed, pack.CodeForbidden)
	// and each works where it belongs
	pusher(t, inner)
	app(t, addr, "alice", nil)
}

func TestUnsupportedVersionStops(t *testing.T) {
	n := startNode(t, server.Config{})
	p := dial(t, n.Addr)
	p.send(pack.Message{URI: pack.URIAuth, Body: []byte("alice"), Meta: map[string]string{pack.MetaVersion: "99"}})
	p.expectClosed(pack.URIAuthFailed, pack.CodeUnsupportedVersion)
}

func TestSecretsNeverLogged(t *testing.T) {
	// Original defect: secrets in logs. Log everything at debug and look.
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n := startNode(t, server.Config{Logger: log, Authenticator: auth.Func(
		func(_ context.Context, token string, _ net.Addr) (string, error) {
			if token == "good-token-123" {
				return "alice", nil
			}
			return "", &pack.CodeError{Code: pack.CodeAuthFailed, Reason: "bad token"}
		})})
	app(t, n.Addr, "good-token-123", nil)
	bad := dial(t, n.Addr)
	bad.send(pack.Message{URI: pack.URIAuth, Body: []byte("bad-token-456")})
	bad.expectClosed(pack.URIAuthFailed, pack.CodeAuthFailed)
	wrong := dial(t, n.Addr)
	wrong.send(pack.Message{URI: pack.URIInnerAuth, Body: []byte("wrong-inner-789")})
	wrong.expectClosed(pack.URIAuthFailed, pack.CodeAuthFailed)
	pusher(t, n.Addr)
	out := buf.String()
	require.NotEmpty(t, out)
	for _, s := range []string{"good-token-123", "bad-token-456", "wrong-inner-789", secret} {
		require.NotContains(t, out, s)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAuthFailedArrivesDespiteUnreadInput(t *testing.T) {
	// The peer keeps sending while the (slow, asynchronous) authenticator
	// refuses it: the node must still deliver /auth/failed before closing
	// (closing with unread input would send RST and destroy the frame).
	n := startNode(t, server.Config{Authenticator: auth.Func(
		func(context.Context, string, net.Addr) (string, error) {
			time.Sleep(20 * time.Millisecond)
			return "", &pack.CodeError{Code: pack.CodeAuthFailed, Reason: "no"}
		})})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			p := dial(t, n.Addr)
			p.send(pack.Message{URI: pack.URIAuth, Body: []byte("bob")})
			for range 20 {
				if p.w.WriteMessage(&pack.Message{URI: pack.URIHeartbeat}) != nil || p.w.Flush() != nil {
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
			m, err := p.tryRecv(5 * time.Second)
			if err != nil || m.URI != pack.URIAuthFailed {
				t.Errorf("want /auth/failed, got %+v, %v", m, err)
			}
		})
	}
	wg.Wait()
}
