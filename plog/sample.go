package plog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Sampled wraps h so that a flood of one log line cannot flood the log:
// per level and message, at most burst records per window pass; the
// rest are counted, and the first record of that message in a later
// window carries "suppressed" with how many were dropped. Lines of other
// messages are not affected. A node under attack (50,000 upstream frames
// a second, a descriptor limit hit on every accept) thus logs each kind of
// event a few times a second, not once per event.
func Sampled(h slog.Handler, burst int, window time.Duration) slog.Handler {
	return &sampler{next: h, st: &sampleState{burst: burst, window: window, keys: map[sampleKey]*sampleCount{}}}
}

type sampler struct {
	next slog.Handler
	st   *sampleState // shared by the handlers WithAttrs and WithGroup derive
}

type sampleState struct {
	burst  int
	window time.Duration
	mu     sync.Mutex
	keys   map[sampleKey]*sampleCount
}

type sampleKey struct {
	level slog.Level
	msg   string
}

type sampleCount struct {
	start   time.Time
	n       int
	dropped int
}

// maxSampleKeys bounds the table; messages are constants in practice, so
// reaching it means something formats data into messages: start over.
const maxSampleKeys = 4096

func (s *sampler) Enabled(ctx context.Context, l slog.Level) bool { return s.next.Enabled(ctx, l) }

func (s *sampler) Handle(ctx context.Context, r slog.Record) error {
	now := r.Time
	if now.IsZero() {
		now = time.Now()
	}
	st := s.st
	st.mu.Lock()
	k := sampleKey{r.Level, r.Message}
	c := st.keys[k]
	if c == nil {
		if len(st.keys) >= maxSampleKeys {
			clear(st.keys)
		}
		c = &sampleCount{start: now}
		st.keys[k] = c
	}
	carried := 0
	if now.Sub(c.start) >= st.window {
		carried = c.dropped
		c.start, c.n, c.dropped = now, 0, 0
	}
	c.n++
	if c.n > st.burst {
		c.dropped++
		st.mu.Unlock()
		return nil
	}
	st.mu.Unlock()
	if carried > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("suppressed", carried))
	}
	return s.next.Handle(ctx, r)
}

func (s *sampler) WithAttrs(as []slog.Attr) slog.Handler {
	return &sampler{next: s.next.WithAttrs(as), st: s.st}
}

func (s *sampler) WithGroup(name string) slog.Handler {
	return &sampler{next: s.next.WithGroup(name), st: s.st}
}
