package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
)

func TestNone(t *testing.T) {
	const chars = "token has characters outside [A-Za-z0-9._@:-]"
	for _, tc := range []struct {
		token  string
		reason string // "" = accepted as the uid
	}{
		{"alice", ""},
		{"Alice.Smith_1@example.com", ""},
		{"device:42-a", ""},
		{"0", ""},
		{strings.Repeat("a", 128), ""},
		{"", "empty token"},
		{strings.Repeat("a", 129), "token too long"},
		{strings.Repeat("é", 100), "token too long"},
		{"has space", chars},
		{"slash/name", chars},
		{"plus+tag", chars},
		{"ümlaut", chars},
		{"nul\x00byte", chars},
		{"new\nline", chars},
		{"tab\t", chars},
		{"pipe|x", chars},
		{"star*", chars},
		{"gt>", chars},
		{"\xff\xfe", chars},
	} {
		t.Run(tc.token, func(t *testing.T) {
			uid, err := auth.None{}.Authenticate(t.Context(), tc.token, remoteAddr)
			if tc.reason == "" {
				require.NoError(t, err)
				require.Equal(t, tc.token, uid)
				require.True(t, auth.ValidUID(tc.token))
				return
			}
			require.Empty(t, uid)
			requireFailed(t, err, tc.reason, tc.token)
			require.False(t, auth.ValidUID(tc.token))
		})
	}
}

func TestValidUIDEveryByte(t *testing.T) {
	const allowed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@:-"
	for b := range 256 {
		s := "a" + string([]byte{byte(b)}) + "z"
		want := strings.IndexByte(allowed, byte(b)) >= 0
		require.Equal(t, want, auth.ValidUID(s), "byte %#x", b)
	}
	require.False(t, auth.ValidUID(""))
	require.True(t, auth.ValidUID(strings.Repeat("x", auth.MaxUIDLen)))
	require.False(t, auth.ValidUID(strings.Repeat("x", auth.MaxUIDLen+1)))
}

func TestNoneIgnoresContext(t *testing.T) {
	// None does no I/O, so a finished ctx does not matter.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var n auth.None // the zero value is ready
	uid, err := n.Authenticate(ctx, "bob", nil)
	require.NoError(t, err)
	require.Equal(t, "bob", uid)
}
