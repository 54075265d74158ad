package fcm_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/vendorpush/internal/h2test"
	"go.uber.org/goleak"

	"github.com/plexpush/plex/vendorpush/fcm"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	project  = "plex-test"
	email    = "push@plex-test.iam.gserviceaccount.com"
	keyID    = "0123456789abcdef0123456789abcdef01234567"
	devToken = "dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx5LrPDEbEAtSJ2TbAzpoD0nDBXUdL0O8HwMAUeUTa4jFYXJBX3WOPr4rEwgQ"
	sendPath = "/v1/projects/" + project + "/messages:send"
)

// testKey is one RSA key for the whole run: generating 2048-bit keys per
// test would dominate the run time under -race.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// serviceAccount returns a service-account JSON key like Google's, with
// the test key and tokenURI.
func serviceAccount(t testing.TB, tokenURI string) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(testKey())
	require.NoError(t, err)
	b, err := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     project,
		"private_key_id": keyID,
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   email,
		"client_id":      "1234567890",
		"auth_uri":       "https://accounts.google.com/o/oauth2/auth",
		"token_uri":      tokenURI,
	})
	require.NoError(t, err)
	return b
}

// clock, sleeps, request and reply are shared with the other senders' tests.
type (
	clock   = h2test.Clock
	sleeps  = h2test.Sleeps
	request = h2test.Request
	reply   = h2test.Reply
)

func newClock() *clock { return h2test.NewClock() }

// endpoint records requests to one path and answers from its script in
// turn (the last reply repeats) or, without a script, with gen(n) for the
// n-th request.
type endpoint struct {
	mu     sync.Mutex
	reqs   []request
	script []reply
	gen    func(n int) reply
	block  chan struct{}
}

func (e *endpoint) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	e.mu.Lock()
	e.reqs = append(e.reqs, request{Proto: r.ProtoMajor, Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	var rep reply
	if len(e.script) > 0 {
		rep = e.script[min(len(e.reqs), len(e.script))-1]
	} else {
		rep = e.gen(len(e.reqs))
	}
	block := e.block
	e.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-r.Context().Done():
			return
		}
	}
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(rep.Status)
	_, _ = io.WriteString(w, rep.Body)
}

func (e *endpoint) requests() []request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]request(nil), e.reqs...)
}

func (e *endpoint) setScript(rs ...reply) {
	e.mu.Lock()
	e.script = rs
	e.mu.Unlock()
}

func (e *endpoint) setBlock(c chan struct{}) {
	e.mu.Lock()
	e.block = c
	e.mu.Unlock()
}

// tokenReply is a token endpoint's success with access token tok.
func tokenReply(tok string, expiresIn int) reply {
	return reply{Status: 200, Body: fmt.Sprintf(`{"access_token":%q,"expires_in":%d,"token_type":"Bearer"}`, tok, expiresIn)}
}

var okReply = reply{Status: 200, Body: `{"name":"projects/plex-test/messages/0:1760000000000000%31"}`}

// fake is a local Google: a token endpoint and FCM, on one HTTP/2 server.
type fake struct {
	token, send endpoint
	url         string
}

// setup starts the fake Google and a Client using it, with a fake clock
// and recorded backoff (jitter 0: each wait is half the computed backoff).
// The token endpoint hands out tok-1, tok-2, … valid for an hour.
func setup(t *testing.T, mod func(*fcm.Config)) (*fcm.Client, *fake, *clock, *sleeps) {
	t.Helper()
	f := &fake{}
	f.send.script = []reply{okReply}
	f.token.gen = func(n int) reply { return tokenReply(fmt.Sprintf("tok-%d", n), 3600) }
	mux := http.NewServeMux()
	mux.HandleFunc("/token", f.token.serve)
	mux.HandleFunc("POST "+sendPath, f.send.serve)
	srv, hc := h2test.Server(t, mux)
	f.url = srv.URL
	clk := newClock()
	cfg := fcm.Config{
		ServiceAccount: serviceAccount(t, srv.URL+"/token"),
		BaseURL:        srv.URL,
		HTTPClient:     hc,
		MinBackoff:     100 * time.Millisecond,
		MaxBackoff:     10 * time.Second,
		Now:            clk.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := fcm.New(cfg)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	sl := &sleeps{}
	fcm.SetRetryHooks(c, sl.Sleep, func() float64 { return 0 })
	return c, f, clk, sl
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func jsonMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// ecPEM returns a PKCS #8 P-256 key, which a service account never has.
func ecPEM(t testing.TB) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}
