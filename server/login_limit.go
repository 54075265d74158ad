package server

import "sync/atomic"

// loginLimit bounds the logins that run off the read path (an
// authenticator that does I/O, such as a webhook, or a store the login's
// replay reads): at most running authenticate at once, at most pending
// in the node (running or waiting for a slot). A login over the pending
// bound is refused at once with /auth/failed 3005 (retry later), so a
// flood of unauthenticated connections costs neither a goroutine each
// nor a webhook call each.
type loginLimit struct {
	slots   chan struct{}
	pending atomic.Int64
	max     int64
}

func newLoginLimit(c *Config) *loginLimit {
	return &loginLimit{slots: make(chan struct{}, c.MaxConcurrentLogins), max: int64(c.MaxPendingLogins)}
}

// enter counts a login in, or reports false when pending is at its bound.
func (l *loginLimit) enter() bool {
	if l.pending.Add(1) > l.max {
		l.pending.Add(-1)
		return false
	}
	return true
}

// run waits for a slot and calls f in it; enter must have returned true.
func (l *loginLimit) run(f func()) {
	defer l.pending.Add(-1)
	l.slots <- struct{}{}
	defer func() { <-l.slots }()
	f()
}
