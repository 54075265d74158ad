package plog_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/plog"
)

func TestSecretNeverPrints(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&buf, nil))
	s := plog.Secret("hunter2")
	l.Info("auth", "token", s)
	l.Info("fmt", "v", fmt.Sprintf("%v %s %+v %#v", s, s, s, s))
	require.NotContains(t, buf.String(), "hunter2")
	require.Contains(t, buf.String(), "REDACTED")
	require.Equal(t, "hunter2", s.Reveal())
}

func TestOrDiscard(t *testing.T) {
	l := plog.OrDiscard(nil)
	require.NotNil(t, l)
	l.Error("dropped") // must not panic
	require.False(t, l.Enabled(t.Context(), slog.LevelError))
	real := slog.Default()
	require.Same(t, real, plog.OrDiscard(real))
}

type fakeTB struct {
	lines    []string
	cleanups []func()
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Log(a ...any)      { f.lines = append(f.lines, fmt.Sprint(a...)) }
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

func TestTestLogger(t *testing.T) {
	f := &fakeTB{}
	l := plog.Test(f).With("conn", 7).WithGroup("g")
	l.Debug("hello", "k", "v")
	require.Len(t, f.lines, 1)
	require.Contains(t, f.lines[0], "msg=hello")
	require.Contains(t, f.lines[0], "conn=7")
	require.Contains(t, f.lines[0], "g.k=v")
	for _, c := range f.cleanups {
		c()
	}
	l.Info("after end") // dropped, no panic
	require.Len(t, f.lines, 1)
}
