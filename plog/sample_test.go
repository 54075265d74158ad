package plog_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/plog"
)

// TestSampled: per message, burst lines per window pass; the next line
// after a window reports how many were dropped; other messages and
// levels pass untouched.
func TestSampled(t *testing.T) {
	var buf bytes.Buffer
	h := plog.Sampled(slog.NewTextHandler(&buf, nil), 3, time.Second)
	log := slog.New(h).With("node", "n1")
	t0 := time.Unix(1_700_000_000, 0)
	emit := func(at time.Duration, level slog.Level, msg string) {
		r := slog.NewRecord(t0.Add(at), level, msg, 0)
		r.AddAttrs(slog.String("k", "v"))
		require.NoError(t, log.Handler().Handle(context.Background(), r))
	}
	for i := range 1000 {
		emit(time.Duration(i)*time.Microsecond, slog.LevelInfo, "upstream")
	}
	emit(0, slog.LevelError, "upstream") // another level: its own budget
	emit(0, slog.LevelInfo, "other")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 5)
	for _, l := range lines {
		require.Contains(t, l, "node=n1", "attrs of With are kept")
	}
	buf.Reset()
	emit(2*time.Second, slog.LevelInfo, "upstream")
	require.Contains(t, buf.String(), "suppressed=997")
	require.Contains(t, buf.String(), "k=v")
	buf.Reset()
	emit(2*time.Second+time.Millisecond, slog.LevelInfo, "upstream")
	require.NotContains(t, buf.String(), "suppressed")
}
