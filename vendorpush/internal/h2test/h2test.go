// Package h2test starts local HTTP/2 TLS servers for the senders' tests and
// makes clients, built like the senders' default one, that trust them.
package h2test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/plexpush/plex/vendorpush/internal/h2"
)

// Server starts an HTTP/2 TLS server running h and returns it with a
// client that trusts its certificate and speaks only HTTP/2. Both are
// closed when the test ends, idle connections included, so that goleak
// sees no transport goroutine.
func Server(t testing.TB, h http.Handler) (*httptest.Server, *http.Client) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c := h2.NewClient(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	t.Cleanup(func() {
		c.CloseIdleConnections()
		srv.Close()
	})
	return srv, c
}
