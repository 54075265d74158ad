package plog

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
)

// TB is the part of testing.TB the test logger needs; keeping it an
// interface keeps the testing package out of production binaries.
type TB interface {
	Helper()
	Log(args ...any)
	Cleanup(func())
}

// Test returns a debug-level logger that writes each record through t.Log,
// so logs show up next to the failing test and only when it fails (or -v).
// Records logged after the test ended are dropped instead of panicking.
func Test(t TB) *slog.Logger {
	h := &testHandler{t: t, mu: new(sync.Mutex), done: new(bool)}
	t.Cleanup(func() { h.mu.Lock(); *h.done = true; h.mu.Unlock() })
	return slog.New(h)
}

type testHandler struct {
	t     TB
	mu    *sync.Mutex
	done  *bool
	attrs []slog.Attr
	group string
}

func (h *testHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *testHandler) Handle(_ context.Context, r slog.Record) error {
	var buf bytes.Buffer
	th := slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}})
	var hh slog.Handler = th.WithAttrs(h.attrs)
	if h.group != "" {
		hh = hh.WithGroup(h.group)
	}
	if err := hh.Handle(context.Background(), r); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !*h.done {
		h.t.Log(strings.TrimSuffix(buf.String(), "\n"))
	}
	return nil
}

func (h *testHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *testHandler) WithGroup(name string) slog.Handler {
	c := *h
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}
