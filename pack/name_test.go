package pack_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
)

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name, in, err string // err: "" when valid, else a part of the error
	}{
		{"ascii", "alice", ""},
		{"punctuation", "a.b*c>d e/f@g:h", ""},
		{"unicode", "Zoë-日本-🎉", ""},
		{"max length", strings.Repeat("a", pack.MaxNameLen), ""},
		{"max length multibyte", strings.Repeat("é", pack.MaxNameLen/2), ""},
		{"U+00A0 is not a control", "a\u00a0b", ""},
		{"empty", "", "empty"},
		{"one over", strings.Repeat("a", pack.MaxNameLen+1), "longer than 256 bytes"},
		{"5000 bytes", strings.Repeat("a", 5000), "longer than 256 bytes"},
		{"app key separator", "shop\x1falice", "control character U+001F at byte 4"},
		{"NUL", "a\x00", "U+0000 at byte 1"},
		{"newline", "a\nb", "U+000A"},
		{"tab", "\tb", "U+0009 at byte 0"},
		{"DEL", "a\x7f", "U+007F"},
		{"C1 NEL", "a\u0085", "U+0085 at byte 1"},
		{"C1 last", "\u009f", "U+009F"},
		{"invalid UTF-8", "a\xffb", "invalid UTF-8 at byte 1"},
		{"truncated UTF-8", "ab\xe6\x97", "invalid UTF-8 at byte 2"},
		{"surrogate half", "a\xed\xa0\x80", "invalid UTF-8 at byte 1"},
		{"overlong encoding", "\xc0\xaf", "invalid UTF-8 at byte 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := pack.ValidName(tc.in)
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, pack.ErrBadName)
			require.ErrorContains(t, err, tc.err)
			var ne *pack.NameError
			require.True(t, errors.As(err, &ne), "a *NameError: %T", err)
			if tc.in != "" {
				require.NotContains(t, err.Error(), tc.in, "the name is never quoted")
			}
		})
	}
}

func TestValidAppID(t *testing.T) {
	for _, ok := range []string{"shop", "a", "A.b_c-9", strings.Repeat("x", pack.MaxAppIDLen)} {
		require.NoError(t, pack.ValidAppID(ok), "%q", ok)
	}
	for _, bad := range []string{"", strings.Repeat("x", pack.MaxAppIDLen+1), "bad id", "a/b", "a\x1fb", "é"} {
		require.ErrorIs(t, pack.ValidAppID(bad), pack.ErrBadName, "%q", bad)
	}
}

func FuzzValidName(f *testing.F) {
	for _, s := range []string{"alice", "shop\x1falice", "a\xff", "\u0085"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if pack.ValidName(s) != nil {
			return
		}
		// a valid name is UTF-8, bounded and free of every control character
		require.LessOrEqual(t, len(s), pack.MaxNameLen)
		require.NotEmpty(t, s)
		require.True(t, utf8.ValidString(s))
		for _, r := range s {
			require.False(t, r < 0x20 || r >= 0x7f && r <= 0x9f, "control %U in a valid name", r)
		}
		require.NotContains(t, s, "\x1f")
	})
}
