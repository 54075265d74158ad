package apns_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/vendorpush/internal/h2test"
	"go.uber.org/goleak"

	"github.com/plexpush/plex/vendorpush/apns"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	keyID  = "ABC123DEFG"
	teamID = "TEAM123456"
	topic  = "com.example.chat"
	// A device token as APNs issues them: 32 bytes in hex.
	devToken = "5f1c2b7a9e0d4c3b8a6f1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4e5f607"
)

// newKey returns a fresh P-256 key and its .p8 PEM.
func newKey(t testing.TB) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return k, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// clock, sleeps, request and reply are shared with the other senders' tests.
type (
	clock   = h2test.Clock
	sleeps  = h2test.Sleeps
	request = h2test.Request
	reply   = h2test.Reply
)

func newClock() *clock { return h2test.NewClock() }

// fakeAPNs records requests and answers with the replies of script in turn
// (the last one repeats; none: 200).
type fakeAPNs struct {
	mu     sync.Mutex
	reqs   []request
	script []reply
	block  chan struct{} // when set, handlers wait on it or the request's ctx
}

func (f *fakeAPNs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, request{Proto: r.ProtoMajor, Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	n := len(f.reqs)
	rep := reply{Status: 200}
	if len(f.script) > 0 {
		rep = f.script[min(n, len(f.script))-1]
	}
	block := f.block
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Apns-Id", fmt.Sprintf("id-%d", n))
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.Status)
	_, _ = io.WriteString(w, rep.Body)
}

func (f *fakeAPNs) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

// setup starts a fake APNs and a Client posting to it, with a fake clock
// and recorded backoff (jitter 0: each wait is half the computed backoff).
func setup(t *testing.T, f *fakeAPNs, mod func(*apns.Config)) (*apns.Client, *ecdsa.PrivateKey, *clock, *sleeps) {
	t.Helper()
	srv, hc := h2test.Server(t, f)
	key, p8 := newKey(t)
	clk := newClock()
	cfg := apns.Config{
		AuthKey:    p8,
		KeyID:      keyID,
		TeamID:     teamID,
		Topic:      topic,
		BaseURL:    srv.URL,
		HTTPClient: hc,
		MinBackoff: 100 * time.Millisecond,
		MaxBackoff: 10 * time.Second,
		Now:        clk.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := apns.New(cfg)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	sl := &sleeps{}
	apns.SetRetryHooks(c, sl.Sleep, func() float64 { return 0 })
	return c, key, clk, sl
}

// newClosedURL returns the URL of a TLS server that is no longer running.
func newClosedURL(t testing.TB) string {
	t.Helper()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}

// rsaPEM returns a PKCS #8 RSA key, which APNs cannot use.
func rsaPEM(t testing.TB) []byte {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 1024) // small: only its type matters
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
