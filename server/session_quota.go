package server

import (
	"time"

	"golang.org/x/time/rate"
)

// connLimit is one connection's inbound quota (Config.ConnFrameRate,
// ConnByteRate). It exists only when a quota is configured, so unlimited
// nodes pay one nil pointer per connection.
type connLimit struct {
	frames *rate.Limiter
	bytes  *rate.Limiter
}

func newConnLimit(c *Config) *connLimit {
	if c.ConnFrameRate <= 0 && c.ConnByteRate <= 0 {
		return nil
	}
	l := &connLimit{}
	if c.ConnFrameRate > 0 {
		l.frames = rate.NewLimiter(rate.Limit(c.ConnFrameRate), max(1, int(c.ConnFrameRate)))
	}
	if c.ConnByteRate > 0 {
		l.bytes = rate.NewLimiter(rate.Limit(c.ConnByteRate), max(1, int(c.ConnByteRate)))
	}
	return l
}

// allow takes one frame of n bytes from the quota.
func (l *connLimit) allow(n int) bool {
	if l == nil {
		return true
	}
	now := time.Now()
	if l.frames != nil && !l.frames.AllowN(now, 1) {
		return false
	}
	// a frame larger than a second's worth of bytes is allowed on a full bucket
	return l.bytes == nil || l.bytes.AllowN(now, min(n, l.bytes.Burst()))
}
