package client_test

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/internal/testcert"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/server"
)

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	cert, pool, err := testcert.SelfSigned()
	require.NoError(t, err)
	return cert, pool
}

// Both clients speak to a TLS node; the server name defaults to the host
// dialled, and an untrusted certificate is refused.
func TestTLS(t *testing.T) {
	leakCheck(t)
	cert, pool := selfSigned(t)
	n := startNode(t, server.Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	trusting := &tls.Config{RootCAs: pool}

	a := dialApp(t, n.Addr, "alice", client.ConnConfig{TLS: trusting})
	pc := pusher(t, client.Config{Addrs: []string{n.Addr}, TLS: trusting})
	res, err := pc.Send(ctxT(t), "alice", "/tls", []byte("secret"), client.Persist(0))
	require.NoError(t, err)
	require.Equal(t, 1, res.Delivered)
	require.Equal(t, "secret", string(a.recv(t).Body))

	// A certificate the client does not trust: no connection, and no
	// credentials sent.
	untrusting := pusher(t, client.Config{Addrs: []string{n.Addr}, TLS: &tls.Config{}, RequestTimeout: time.Second})
	_, err = untrusting.Send(ctxT(t), "alice", "/tls", nil)
	require.ErrorIs(t, err, client.ErrNoNode)
	require.ErrorContains(t, err, "certificate")
}
