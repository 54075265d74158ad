package server

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiterTable is a token bucket per key (an address, a user), created on
// first use. It is bounded: past maxLimiterKeys keys, the ones whose
// bucket is full again are dropped, then all (a flood of keys resets it
// rather than growing the node).
type limiterTable[K comparable] struct {
	limit rate.Limit
	burst int

	mu   sync.Mutex
	keys map[K]*rate.Limiter
}

const maxLimiterKeys = 1 << 16

func newLimiterTable[K comparable](limit float64, burst int) *limiterTable[K] {
	return &limiterTable[K]{limit: rate.Limit(limit), burst: burst, keys: map[K]*rate.Limiter{}}
}

// empty reports whether k's bucket has no token left (false for a key
// never seen); it takes none.
func (t *limiterTable[K]) empty(k K) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.keys[k]
	return l != nil && l.Tokens() < 1
}

// allow takes a token from k's bucket, creating it full on first use; it
// reports whether there was one.
func (t *limiterTable[K]) allow(k K) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.keys[k]
	if l == nil {
		if len(t.keys) >= maxLimiterKeys {
			t.prune()
		}
		l = rate.NewLimiter(t.limit, t.burst)
		t.keys[k] = l
	}
	return l.Allow()
}

// prune drops the keys whose bucket is full again, or all of them when
// that leaves the table full. Called with mu held.
func (t *limiterTable[K]) prune() {
	now := time.Now()
	for k, l := range t.keys {
		if l.TokensAt(now) >= float64(t.burst) {
			delete(t.keys, k)
		}
	}
	if len(t.keys) >= maxLimiterKeys {
		clear(t.keys)
	}
}
