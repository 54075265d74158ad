package auth

import (
	"context"
	"net"
)

// None authenticates without credentials: the token is the uid. It is meant
// for development, tests and networks where the app is trusted (plexd
// -auth none). The zero value is ready to use.
//
// The token is refused with pack.CodeAuthFailed unless ValidUID accepts it.
type None struct{}

// Authenticate returns token as the uid when ValidUID(token), and a
// pack.CodeAuthFailed error otherwise. ctx and remote are not used.
func (None) Authenticate(_ context.Context, token string, _ net.Addr) (string, error) {
	switch {
	case token == "":
		return "", failed("empty token")
	case len(token) > MaxUIDLen:
		return "", failed("token too long")
	case !ValidUID(token):
		return "", failed("token has characters outside [A-Za-z0-9._@:-]")
	}
	return token, nil
}

// ValidUID reports whether s is a uid by the strict rule of docs/protocol.md:
// 1 to MaxUIDLen bytes, each one of A-Z a-z 0-9 . _ @ : -. Such a uid is safe
// in a URL query, a log line, a file name and (once '.' is escaped) a NATS
// subject. None applies this rule to the token; other authenticators may
// return uids outside it (see the package documentation).
func ValidUID(s string) bool {
	if s == "" || len(s) > MaxUIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !uidByte[s[i]] {
			return false
		}
	}
	return true
}

// uidByte marks the bytes ValidUID accepts.
var uidByte = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "._@:-" {
		t[c] = true
	}
	return t
}()

// Local reports that None does no I/O, so a node may call it on its event
// loop (server.LocalAuthenticator).
func (None) Local() bool { return true }

// Open reports that None lets anyone in as any user: server.New refuses it
// on an address that is not loopback-only unless Config.AllowOpenAuth is
// set (server.OpenAuthenticator).
func (None) Open() bool { return true }
