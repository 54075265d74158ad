// Clock, Request and Reply are shared by the APNs and FCM tests: a settable
// clock, and what a fake vendor server recorded and answers.

package h2test

import (
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
