package plexmobile

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
)

// sinkHandler is the slog.Handler behind a Client's logger: it formats each
// record as one logfmt line ("msg key=value …", no time: the platform's log
// adds it) and hands it to the Logger the app set, if any. The sink is
// swapped atomically, so SetLogger works at any time.
type sinkHandler struct {
	sink  *atomic.Pointer[loggerBox]
	attrs []slog.Attr
	group string
}

// loggerBox holds an interface value behind an atomic pointer.
type loggerBox struct{ l Logger }

func newSinkHandler() *sinkHandler {
	return &sinkHandler{sink: new(atomic.Pointer[loggerBox])}
}

func (h *sinkHandler) set(l Logger) {
	if l == nil {
		h.sink.Store(nil)
		return
	}
	h.sink.Store(&loggerBox{l})
}

func (h *sinkHandler) Enabled(context.Context, slog.Level) bool { return h.sink.Load() != nil }

func (h *sinkHandler) Handle(_ context.Context, r slog.Record) error {
	b := h.sink.Load()
	if b == nil {
		return nil
	}
	var buf bytes.Buffer
	var th slog.Handler = slog.NewTextHandler(&buf, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
				return slog.Attr{}
			}
			return a
		},
	})
	th = th.WithAttrs(h.attrs)
	if h.group != "" {
		th = th.WithGroup(h.group)
	}
	if err := th.Handle(context.Background(), r); err != nil {
		return err
	}
	line := strings.TrimSuffix(strings.TrimPrefix(buf.String(), "msg="), "\n")
	func() {
		defer func() { _ = recover() }() // a Go Logger that panics must not break the SDK
		b.l.Log(int64(r.Level), line)
	}()
	return nil
}

func (h *sinkHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *sinkHandler) WithGroup(name string) slog.Handler {
	c := *h
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}
