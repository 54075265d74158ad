package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/internal/testcert"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	cert, pool, err := testcert.SelfSigned()
	require.NoError(t, err)
	return cert, pool
}

func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	n := startNode(t, server.Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	c, err := tls.Dial("tcp", n.Addr, &tls.Config{RootCAs: pool})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	p := &peer{t: t, c: c, r: pack.NewReader(c, pack.BigEndian, pack.JSON, 0), w: pack.NewWriter(c, pack.BigEndian, pack.JSON)}
	require.Equal(t, "alice", p.auth("alice", nil).UID)
	for i := range 100 {
		_, err := n.Push(t.Context(), server.User("alice"), pack.Message{URI: "/tls", Body: []byte{byte('a' + i%26)}})
		require.NoError(t, err)
	}
	for i := range 100 {
		require.Equal(t, []byte{byte('a' + i%26)}, p.recv().Body)
	}
	// a plain-TCP client gets nowhere with a TLS node
	plain := dial(t, n.Addr)
	plain.send(pack.Message{URI: pack.URIAuth, Body: []byte("bob")})
	plain.expectEOF()
}

func TestTLSFinalFramesArrive(t *testing.T) {
	cert, pool := selfSigned(t)
	srv, err := server.New(server.Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}},
		Authenticator: nilAuthOK{}, InnerSecret: secret})
	require.NoError(t, err)
	ln := listen(t)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	dialTLS := func() *peer {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool})
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return &peer{t: t, c: c, r: pack.NewReader(c, pack.BigEndian, pack.JSON, 0), w: pack.NewWriter(c, pack.BigEndian, pack.JSON)}
	}
	bad := dialTLS()
	bad.send(pack.Message{URI: pack.URIInnerAuth, Body: []byte("wrong")})
	bad.expectClosed(pack.URIAuthFailed, pack.CodeAuthFailed)
	good := dialTLS()
	good.auth("alice", nil)
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, srv.Shutdown(sctx))
	require.ErrorIs(t, <-done, server.ErrServerClosed)
	good.expectClosed(pack.URIDisconnect, pack.CodeShutdown)
}
