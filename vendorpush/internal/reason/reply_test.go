package reason

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestClip(t *testing.T) {
	require.Equal(t, "short", Clip("short"))
	exact := strings.Repeat("a", MaxText)
	require.Equal(t, exact, Clip(exact))
	require.Equal(t, exact+"…", Clip(exact+"b"))
	// a 3-byte rune across the bound is dropped whole
	s := strings.Repeat("a", MaxText-1) + "€tail"
	got := Clip(s)
	require.True(t, utf8.ValidString(got))
	require.Equal(t, strings.Repeat("a", MaxText-1)+"…", got)
}
