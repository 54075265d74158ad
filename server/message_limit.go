package server

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// senderLimits is the /message budget of each sending user (by scoped
// uid, across all their connections on this node): a user who may message
// others cannot make the node store without bound (each /message is a
// persistent push, kept for its TTL whether or not its recipient exists).
// The table is bounded like secretThrottle's: past maxSenders, the users
// whose bucket is full again are dropped, then all.
type senderLimits struct {
	limit rate.Limit
	burst int

	mu    sync.Mutex
	users map[string]*rate.Limiter
}

const maxSenders = 1 << 16

func newSenderLimits(c *Config) *senderLimits {
	if c.MessageRate < 0 {
		return nil
	}
	return &senderLimits{limit: rate.Limit(c.MessageRate), burst: c.MessageBurst, users: map[string]*rate.Limiter{}}
}

// allow takes one /message from uid's budget.
func (l *senderLimits) allow(uid string) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.users[uid]
	if lim == nil {
		if len(l.users) >= maxSenders {
			now := time.Now()
			for k, v := range l.users {
				if v.TokensAt(now) >= float64(l.burst) {
					delete(l.users, k)
				}
			}
			if len(l.users) >= maxSenders {
				clear(l.users)
			}
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.users[uid] = lim
	}
	return lim.Allow()
}
