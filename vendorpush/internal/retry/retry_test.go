package retry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDelay(t *testing.T) {
	p := Policy{Min: 100 * time.Millisecond, Max: time.Second}
	tests := []struct {
		n     int
		rand  float64
		after time.Duration
		want  time.Duration
	}{
		{1, 0, 0, 50 * time.Millisecond},
		{1, 0.5, 0, 75 * time.Millisecond},
		{2, 0, 0, 100 * time.Millisecond},
		{4, 0, 0, 400 * time.Millisecond},
		{5, 0, 0, 500 * time.Millisecond},  // 1.6 s capped at 1 s, then halved
		{64, 0, 0, 500 * time.Millisecond}, // no overflow
		{1, 0, 3 * time.Second, 3 * time.Second},
		{3, 0.99, 10 * time.Millisecond, 398 * time.Millisecond},
	}
	for _, tt := range tests {
		p.Rand = func() float64 { return tt.rand }
		require.Equal(t, tt.want, p.Delay(tt.n, tt.after), "Delay(%d, %v) with rand %v", tt.n, tt.after, tt.rand)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{" 7 ", 7 * time.Second, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"Fri, 02 Jan 2026 03:04:35 GMT", 30 * time.Second, true},
		{"Fri, 02 Jan 2026 03:00:00 GMT", 0, true},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		d, ok := ParseRetryAfter(tt.in, now)
		require.Equal(t, tt.ok, ok, "ParseRetryAfter(%q) ok", tt.in)
		require.Equal(t, tt.want, d, "ParseRetryAfter(%q)", tt.in)
	}
}

func TestDo(t *testing.T) {
	errTemp := errors.New("temporary")
	var waits []time.Duration
	p := Policy{
		Attempts: 4, Min: 10 * time.Millisecond, Max: time.Second,
		Rand:  func() float64 { return 0 },
		Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil },
	}
	tests := []struct {
		name     string
		results  []error
		again    bool
		after    time.Duration
		attempts int
		waits    int
	}{
		{"first try succeeds", []error{nil}, false, 0, 1, 0},
		{"second succeeds", []error{errTemp, nil}, true, 0, 2, 1},
		{"attempts run out", []error{errTemp}, true, 0, 4, 3},
		{"not worth retrying", []error{errTemp}, false, 0, 1, 0},
		{"retry-after over Max", []error{errTemp}, true, 2 * time.Second, 1, 0},
	}
	for _, tt := range tests {
		waits = nil
		n, err := p.Do(t.Context(), func(_ context.Context, attempt int) (bool, time.Duration, error) {
			e := tt.results[min(attempt, len(tt.results))-1]
			return tt.again, tt.after, e
		})
		require.Equal(t, tt.attempts, n, "%s: attempts", tt.name)
		require.Len(t, waits, tt.waits, "%s: waits", tt.name)
		if tt.results[min(n, len(tt.results))-1] == nil {
			require.NoError(t, err, tt.name)
		} else {
			require.ErrorIs(t, err, errTemp, tt.name)
		}
	}
}

func TestDoCancelledWait(t *testing.T) {
	errTemp := errors.New("temporary")
	ctx, cancel := context.WithCancel(t.Context())
	p := Policy{Attempts: 3, Min: time.Hour, Max: time.Hour}
	n, err := p.Do(ctx, func(context.Context, int) (bool, time.Duration, error) {
		cancel()
		return true, 0, errTemp
	})
	require.Equal(t, 1, n)
	require.ErrorIs(t, err, errTemp)
	// ctx was already done when the try returned: no wait, the error as is.

	ctx, cancel = context.WithCancel(t.Context())
	p.Sleep = func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() }
	n, err = p.Do(ctx, func(context.Context, int) (bool, time.Duration, error) { return true, 0, errTemp })
	require.Equal(t, 1, n)
	require.ErrorIs(t, err, errTemp)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, "temporary (retry abandoned: context canceled)", err.Error())
}

func TestStatus(t *testing.T) {
	for code, want := range map[int]bool{200: false, 400: false, 403: false, 410: false, 429: true, 500: true, 503: true, 599: true} {
		require.Equal(t, want, Status(code), "Status(%d)", code)
	}
}
