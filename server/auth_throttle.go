package server

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// secretThrottle limits wrong secrets per remote address: push-client
// logins (/inner/auth/server) and the HTTP API's bearer secrets. Each
// address (an IPv6 one by its /64) has a token bucket of failures; while
// it is empty, every attempt from that address is refused before the
// secret is looked at (4029, HTTP 429), the right secret included, so a
// guesser gains nothing by going on. Other addresses are not slowed. The
// table is bounded: past maxThrottled addresses, the ones whose bucket is
// full again are dropped, then all (a flood of addresses resets it rather
// than growing the node).
type secretThrottle struct {
	limit rate.Limit
	burst int

	mu    sync.Mutex
	addrs map[netip.Prefix]*rate.Limiter
}

const maxThrottled = 1 << 16

func newSecretThrottle(c *Config) *secretThrottle {
	if c.SecretFailBurst < 0 {
		return nil
	}
	return &secretThrottle{limit: rate.Limit(c.SecretFailRate), burst: c.SecretFailBurst,
		addrs: map[netip.Prefix]*rate.Limiter{}}
}

// key is the bucket of a remote address ("host:port" or a net.Addr's
// String); ok is false when it has no IP (e.g. a pipe in tests).
func throttleKey(remote string) (netip.Prefix, bool) {
	ap, err := netip.ParseAddrPort(remote)
	var ip netip.Addr
	if err == nil {
		ip = ap.Addr()
	} else if host, _, e := net.SplitHostPort(remote); e == nil {
		if ip, err = netip.ParseAddr(host); err != nil {
			return netip.Prefix{}, false
		}
	} else {
		return netip.Prefix{}, false
	}
	ip = ip.Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p, true
}

// blocked reports whether remote used up its failures.
func (t *secretThrottle) blocked(remote string) bool {
	if t == nil {
		return false
	}
	k, ok := throttleKey(remote)
	if !ok {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.addrs[k]
	return l != nil && l.Tokens() < 1
}

// failed records a wrong secret from remote.
func (t *secretThrottle) failed(remote string) {
	if t == nil {
		return
	}
	k, ok := throttleKey(remote)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.addrs[k]
	if l == nil {
		if len(t.addrs) >= maxThrottled {
			t.prune()
		}
		l = rate.NewLimiter(t.limit, t.burst)
		t.addrs[k] = l
	}
	l.Allow()
}

// prune drops the addresses whose bucket is full again, or all of them
// when none is. Called with mu held.
func (t *secretThrottle) prune() {
	now := time.Now()
	for k, l := range t.addrs {
		if l.TokensAt(now) >= float64(t.burst) {
			delete(t.addrs, k)
		}
	}
	if len(t.addrs) >= maxThrottled {
		clear(t.addrs)
	}
}

// addrString is a.String(), or "" for a nil address.
func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
