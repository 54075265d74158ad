package server

import (
	"net"
	"net/netip"
)

// secretThrottle limits wrong secrets per remote address: push-client
// logins (/inner/auth/server) and the HTTP API's bearer secrets. Each
// address (an IPv6 one by its /64) has a token bucket of failures; while
// it is empty, every attempt from that address is refused before the
// secret is looked at (4029, HTTP 429), the right secret included, so a
// guesser gains nothing by going on. Other addresses are not slowed.
type secretThrottle struct {
	addrs *limiterTable[netip.Prefix]
}

func newSecretThrottle(c *Config) *secretThrottle {
	if c.SecretFailBurst < 0 {
		return nil
	}
	return &secretThrottle{addrs: newLimiterTable[netip.Prefix](c.SecretFailRate, c.SecretFailBurst)}
}

// throttleKey is the bucket of a remote address ("ip:port", as a
// net.Addr's String and http.Request.RemoteAddr give it); ok is false when
// it has no IP (e.g. a pipe in tests).
func throttleKey(remote string) (netip.Prefix, bool) {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Prefix{}, false
	}
	ip := ap.Addr().Unmap()
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
	return ok && t.addrs.empty(k)
}

// failed records a wrong secret from remote.
func (t *secretThrottle) failed(remote string) {
	if t == nil {
		return
	}
	if k, ok := throttleKey(remote); ok {
		t.addrs.allow(k)
	}
}

// addrString is a.String(), or "" for a nil address.
func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
