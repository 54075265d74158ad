// Clock, Sleeps, Request and Reply are shared by the senders' tests: a
// settable clock, recorded backoff waits, and what a fake vendor server
// recorded and answers.

package h2test

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Clock is a settable time source, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at a fixed instant so that tokens and claims are stable.
func NewClock() *Clock { return &Clock{t: time.Unix(1_760_000_000, 0)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock forward by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Sleeps records the backoff waits of a sender instead of taking them
// (its Config's sleep hook), safe for concurrent use.
type Sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

// Sleep records d and returns ctx's error.
func (s *Sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

// Waits returns the waits recorded so far.
func (s *Sleeps) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// Request is what a fake vendor server saw.
type Request struct {
	Proto  int
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// Reply is what a fake vendor server answers.
type Reply struct {
	Status int
	Header map[string]string
	Body   string
}
