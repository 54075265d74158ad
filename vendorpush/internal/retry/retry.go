// Package retry runs one vendor request with bounded attempts and jittered
// exponential backoff, honouring the server's Retry-After. It is shared by
// the APNs and FCM senders; it starts no goroutine.
package retry

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Policy bounds the retries of one request. Make it with the fields set;
// the zero Policy makes one attempt.
type Policy struct {
	// Attempts is the total number of tries, the first included. Below 1
	// means 1.
	Attempts int
	// Min is the backoff before the second try; each later one doubles,
	// up to Max.
	Min time.Duration
	// Max caps a computed backoff, and a Retry-After longer than Max ends
	// the retries: a vendor asking for minutes of silence is better served
	// by giving the request up than by holding a sender that long.
	Max time.Duration
	// Rand returns a number in [0, 1) for jitter. Nil: math/rand/v2.
	Rand func() float64
	// Sleep waits d or until ctx is done. Nil: a timer. Tests replace it
	// to record the waits without taking them.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Try is one attempt. It returns whether a failure is worth another
// attempt, the server's Retry-After (zero when absent) and the attempt's
// error (nil: done).
type Try func(ctx context.Context, attempt int) (again bool, retryAfter time.Duration, err error)

// Do calls try until it succeeds, fails with an error not worth retrying,
// the attempts run out, a Retry-After is longer than Max, the wait would
// outlast ctx's deadline, or ctx is done while waiting. It returns the
// number of attempts made and the last attempt's error; when ctx ended the
// wait, the error also wraps ctx.Err().
func (p Policy) Do(ctx context.Context, try Try) (int, error) {
	attempts := max(p.Attempts, 1)
	for n := 1; ; n++ {
		again, after, err := try(ctx, n)
		if err == nil || !again || n >= attempts || ctx.Err() != nil {
			return n, err
		}
		if after > p.Max {
			return n, err
		}
		d := p.Delay(n, after)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
			return n, err // the wait would end in ctx's error anyway
		}
		if werr := p.sleep(ctx, d); werr != nil {
			return n, &stopped{last: err, ctx: werr}
		}
	}
}

// Delay returns the wait after the n-th failed attempt (n ≥ 1): Min·2^(n-1)
// capped at Max, with "equal jitter" (a uniform value between half of it
// and all of it, so many senders failing together spread out but still
// back off), and never less than retryAfter.
func (p Policy) Delay(n int, retryAfter time.Duration) time.Duration {
	d := p.Max
	if n-1 < 32 {
		if e := p.Min << (n - 1); e > 0 && e < p.Max {
			d = e
		}
	}
	r := p.Rand
	if r == nil {
		r = rand.Float64
	}
	d = d/2 + time.Duration(r()*float64(d-d/2))
	return max(d, retryAfter)
}

func (p Policy) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stopped is the last attempt's error when ctx ended the wait for the next.
type stopped struct{ last, ctx error }

func (s *stopped) Error() string   { return s.last.Error() + " (retry abandoned: " + s.ctx.Error() + ")" }
func (s *stopped) Unwrap() []error { return []error{s.last, s.ctx} }

// ParseRetryAfter reads a Retry-After header value (RFC 9110 §10.2.3):
// delay-seconds or an HTTP-date, relative to now. ok is false when the
// header is absent or malformed; a date in the past is a zero wait.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(s) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// Status says whether an HTTP status is worth another attempt: 429 and
// every 5xx. Other 4xx are the request's fault and would fail again.
func Status(code int) bool {
	return code == http.StatusTooManyRequests || code >= 500 && code <= 599
}
