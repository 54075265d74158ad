package auth_test

import (
	"context"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/pack"
)

// authenticator is the method set package server requires; every
// authenticator of this package must have it.
type authenticator interface {
	Authenticate(ctx context.Context, token string, remote net.Addr) (uid string, err error)
}

var (
	_ authenticator = (*auth.JWT)(nil)
	_ authenticator = (*auth.Webhook)(nil)
	_ authenticator = auth.None{}
	_ authenticator = auth.Func(nil)
	_ authenticator = auth.Legacy(func(string) (bool, string) { return false, "" })
)

// remoteAddr is the address tests pass as the app's.
var remoteAddr = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 40123}

// requireFailed asserts that err means "invalid credentials" with the given
// reason, and that it does not quote token.
func requireFailed(t *testing.T, err error, reason, token string) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, pack.CodeAuthFailed, "want CodeAuthFailed, got %v", err)
	require.NotErrorIs(t, err, auth.ErrUnavailable)
	var ce *pack.CodeError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, pack.CodeAuthFailed, ce.Code)
	if reason != "" {
		require.Equal(t, reason, ce.Reason, "reason")
	}
	requireNoToken(t, err, token)
}

// requireUnavailable asserts that err means "the check could not be done":
// not CodeAuthFailed, wrapping ErrUnavailable, not quoting token.
func requireUnavailable(t *testing.T, err error, token string) {
	t.Helper()
	require.Error(t, err)
	require.NotErrorIs(t, err, pack.CodeAuthFailed, "an infrastructure error must not be terminal: %v", err)
	_, isCode := pack.CodeOf(err)
	require.False(t, isCode, "got a wire code in %v", err)
	require.ErrorIs(t, err, auth.ErrUnavailable)
	requireNoToken(t, err, token)
}

func requireNoToken(t *testing.T, err error, token string) {
	t.Helper()
	if token == "" || err == nil {
		return
	}
	require.NotContains(t, err.Error(), token, "the error quotes the token")
	for _, s := range strings.Split(token, ".") { // each JWT segment alone, too
		if len(s) >= 8 {
			require.NotContains(t, err.Error(), s, "the error quotes a token segment")
		}
	}
}

// checkGoroutines fails the test when, at cleanup, more goroutines run than
// when it was called (after a grace period for closing connections). Call
// it first, so that its cleanup runs last; not for parallel tests.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutines: got %d, want at most %d\n%s", n, before, buf)
		}
	})
}
