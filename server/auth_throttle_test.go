package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// TestWrongSecretsThrottledPerAddress: after SecretFailBurst wrong push
// client secrets from one address, every attempt from it is refused with
// 4029 before the secret is checked, the right one included; the HTTP
// API's bearer shares the budget per address (429); another address is
// not slowed; the metric counts the refusals.
func TestWrongSecretsThrottledPerAddress(t *testing.T) {
	n := startNode(t, server.Config{SecretFailBurst: 3, SecretFailRate: 0.001})
	for range 3 {
		p := dial(t, n.Addr)
		p.send(pack.Message{URI: pack.URIInnerAuth, Body: []byte("wrong")})
		p.expectClosed(pack.URIAuthFailed, pack.CodeAuthFailed)
	}
	p := dial(t, n.Addr)
	p.send(pack.Message{URI: pack.URIInnerAuth, Body: []byte(secret)})
	p.expectClosed(pack.URIAuthFailed, pack.CodeRateLimited)

	h := n.Handler()
	call := func(remote, bearer string) int {
		req := httptest.NewRequest("POST", "/plex/v1/push", strings.NewReader(`{"uid":"a","uri":"/x"}`))
		req.RemoteAddr = remote
		req.Header.Set("Authorization", "Bearer "+bearer)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	require.Equal(t, http.StatusTooManyRequests, call("127.0.0.1:5000", secret), "the same address over HTTP")
	require.Equal(t, http.StatusOK, call("192.0.2.1:5000", secret), "another address")
	for range 3 {
		require.Equal(t, http.StatusUnauthorized, call("[2001:db8::1]:5000", "wrong"))
	}
	require.Equal(t, http.StatusTooManyRequests, call("[2001:db8::2]:6000", secret), "an IPv6 /64 is one address")
	require.Equal(t, http.StatusOK, call("[2001:db8:0:1::1]:6000", secret), "another /64")
	require.Equal(t, 3.0, metricValue(t, n, "plex_rate_limited_total", "secret_failures"))

	off := startNode(t, server.Config{SecretFailBurst: -1})
	for range 20 {
		p := dial(t, off.Addr)
		p.send(pack.Message{URI: pack.URIInnerAuth, Body: []byte("wrong")})
		p.expectClosed(pack.URIAuthFailed, pack.CodeAuthFailed)
	}
	pusher(t, off.Addr)
}
