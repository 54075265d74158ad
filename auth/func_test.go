package auth_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/pack"
)

func TestFunc(t *testing.T) {
	type key struct{}
	infra := errors.New("db down")
	f := auth.Func(func(ctx context.Context, token string, remote net.Addr) (string, error) {
		require.Equal(t, "v", ctx.Value(key{}), "ctx is passed through")
		require.Same(t, remoteAddr, remote, "remote is passed through")
		switch token {
		case "tok-infra":
			return "", infra
		case "tok-denied":
			return "", &pack.CodeError{Code: pack.CodeAuthFailed, Reason: "denied"}
		case "tok-empty":
			return "", nil
		case "tok-long":
			return strings.Repeat("u", 129), nil
		case "tok-ctrl":
			return "a\x1bb", nil
		}
		return "uid-of-" + token, nil
	})
	ctx := context.WithValue(t.Context(), key{}, "v")

	uid, err := f.Authenticate(ctx, "tok-good", remoteAddr)
	require.NoError(t, err)
	require.Equal(t, "uid-of-tok-good", uid)

	_, err = f.Authenticate(ctx, "tok-infra", remoteAddr)
	require.ErrorIs(t, err, infra, "errors are returned unchanged")
	require.NotErrorIs(t, err, pack.CodeAuthFailed)

	_, err = f.Authenticate(ctx, "tok-denied", remoteAddr)
	requireFailed(t, err, "denied", "tok-denied")

	_, err = f.Authenticate(ctx, "tok-empty", remoteAddr)
	requireFailed(t, err, "empty uid", "tok-empty")

	for _, tok := range []string{"tok-long", "tok-ctrl"} {
		uid, err = f.Authenticate(ctx, tok, remoteAddr)
		require.Empty(t, uid)
		requireUnavailable(t, err, tok)
	}
}

func TestLegacy(t *testing.T) {
	const token = "tok-LEGACY-83jd02"
	for _, tc := range []struct {
		name   string
		ok     bool
		ret    string
		uid    string // want; "" = an error
		reason string // for CodeAuthFailed; "" = unavailable
	}{
		{"accepted", true, "alice", "alice", ""},
		{"accepted outside ValidUID", true, "Zoë Smith", "Zoë Smith", ""},
		{"accepted with empty uid", true, "", "", "empty uid"},
		{"accepted with too long uid", true, strings.Repeat("u", 129), "", ""},
		{"accepted with control char", true, "a\nb", "", ""},
		{"refused with no reason", false, "", "", "token rejected"},
		{"refused with a reason", false, "user banned", "", "user banned"},
		{"refused echoing the token", false, token, "", "token rejected"},
		{"refused quoting the token", false, "bad token: " + token, "", "token rejected"},
		{"refused with a long reason", false, strings.Repeat("r", 129), "", "token rejected"},
		{"refused with an unprintable reason", false, "bad\x01", "", "token rejected"},
		{"refused with invalid UTF-8", false, "bad\xff", "", "token rejected"},
		{"refused with a 128-byte reason", false, strings.Repeat("r", 128), "", strings.Repeat("r", 128)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			a := auth.Legacy(func(body string) (bool, string) { got = body; return tc.ok, tc.ret })
			uid, err := a.Authenticate(t.Context(), token, remoteAddr)
			require.Equal(t, token, got, "the callback gets the token as body")
			switch {
			case tc.uid != "":
				require.NoError(t, err)
				require.Equal(t, tc.uid, uid)
			case tc.reason != "":
				require.Empty(t, uid)
				requireFailed(t, err, tc.reason, token)
			default:
				require.Empty(t, uid)
				requireUnavailable(t, err, token)
			}
		})
	}
}

func TestLegacyContextDone(t *testing.T) {
	var calls atomic.Int32
	a := auth.Legacy(func(string) (bool, string) { calls.Add(1); return true, "alice" })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	uid, err := a.Authenticate(ctx, "tok-x", nil)
	require.Empty(t, uid)
	requireUnavailable(t, err, "tok-x")
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, calls.Load(), "the callback ran after ctx was done")
}

func TestLegacyNil(t *testing.T) {
	require.PanicsWithValue(t, "auth: Legacy called with a nil callback", func() { auth.Legacy(nil) })
}
