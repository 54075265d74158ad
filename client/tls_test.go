package client_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/server"
)

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "plex client test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// Both clients speak to a TLS node; the server name defaults to the host
// dialled, and an untrusted certificate is refused.
func TestTLS(t *testing.T) {
	leakCheck(t)
	cert, pool := selfSigned(t)
	n := startNode(t, server.Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	trusting := &tls.Config{RootCAs: pool}

	a := dialApp(t, n.addr, "alice", client.ConnConfig{TLS: trusting})
	pc := pusher(t, client.Config{Addrs: []string{n.addr}, TLS: trusting})
	res, err := pc.Send(ctxT(t), "alice", "/tls", []byte("secret"), client.Persist(0))
	require.NoError(t, err)
	require.Equal(t, 1, res.Delivered)
	require.Equal(t, "secret", string(a.recv(t).Body))

	// A certificate the client does not trust: no connection, and no
	// credentials sent.
	untrusting := pusher(t, client.Config{Addrs: []string{n.addr}, TLS: &tls.Config{}, RequestTimeout: time.Second})
	_, err = untrusting.Send(ctxT(t), "alice", "/tls", nil)
	require.ErrorIs(t, err, client.ErrNoNode)
	require.ErrorContains(t, err, "certificate")
}
