package webpush

import (
	"crypto/ecdh"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Limits of a subscription, checked by ParseSubscription.
const (
	// MaxSubscription bounds the subscription JSON a device registers.
	// Browsers' endpoints are 150–400 bytes and the keys 110 more; 4 KiB
	// leaves room for any push service while a registry of ten devices per
	// user stays small.
	MaxSubscription = 4096
	// MaxEndpoint bounds the endpoint URL within it.
	MaxEndpoint = 2048
)

// Subscription is a browser's PushSubscription (PushSubscription.toJSON()
// in the page): where to POST, and the keys that encrypt for it.
//
//	{"endpoint":"https://push.example.net/…","keys":{"p256dh":"B…","auth":"…"}}
//
// It is the device token of platform vendorpush.WebPush: Token makes the
// canonical string that registries keep.
type Subscription struct {
	// Endpoint is the push resource (RFC 8030 §5): an https URL whose path
	// names the subscription. Whoever knows it can post to the browser
	// (encrypted, and the push service checks VAPID), so it is logged only
	// as RedactEndpoint shows it.
	Endpoint string
	// P256DH is the user agent's ECDH public key, an uncompressed P-256
	// point (65 bytes, RFC 8291 §3.1).
	P256DH []byte
	// Auth is the 16-byte authentication secret (RFC 8291 §3.2).
	Auth []byte
}

// subscriptionJSON is the shape browsers produce; expirationTime and other
// members are ignored.
type subscriptionJSON struct {
	Endpoint string `json:"endpoint"`
	Keys     struct {
		P256DH string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
}

// ParseSubscription reads and checks a subscription as the browser
// serialises it: an https endpoint with a host, a p256dh key that is a
// point on P-256, a 16-byte auth secret. Keys may be base64url or base64,
// padded or not. The error wraps ErrBadSubscription and says what is wrong
// without quoting the endpoint.
func ParseSubscription(token string) (Subscription, error) {
	bad := func(format string, args ...any) (Subscription, error) {
		return Subscription{}, fmt.Errorf("%w: "+format, append([]any{ErrBadSubscription}, args...)...)
	}
	if len(token) > MaxSubscription {
		return bad("%d bytes, at most %d", len(token), MaxSubscription)
	}
	var raw subscriptionJSON
	if err := json.Unmarshal([]byte(token), &raw); err != nil {
		return bad("not the JSON of a PushSubscription ({\"endpoint\",\"keys\":{\"p256dh\",\"auth\"}})")
	}
	if err := checkEndpoint(raw.Endpoint); err != nil {
		return bad("%v", err)
	}
	p256dh, err := decodeKey(raw.Keys.P256DH)
	if err != nil || len(p256dh) != 65 || p256dh[0] != 4 {
		return bad("keys.p256dh must be an uncompressed P-256 point: 65 bytes in base64url, got %d bytes", len(p256dh))
	}
	if _, err := ecdh.P256().NewPublicKey(p256dh); err != nil {
		return bad("keys.p256dh is not a point on P-256")
	}
	auth, err := decodeKey(raw.Keys.Auth)
	if err != nil || len(auth) != 16 {
		return bad("keys.auth must be 16 bytes in base64url, got %d bytes", len(auth))
	}
	return Subscription{Endpoint: raw.Endpoint, P256DH: p256dh, Auth: auth}, nil
}

// checkEndpoint: an absolute https URL with a host, no user info, no
// fragment. Push services are https only (RFC 8030 §8); http would let
// anyone on the path read the endpoint and the VAPID token.
func checkEndpoint(s string) error {
	if s == "" {
		return fmt.Errorf("endpoint missing")
	}
	if len(s) > MaxEndpoint {
		return fmt.Errorf("endpoint of %d bytes, at most %d", len(s), MaxEndpoint)
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || !u.IsAbs():
		return fmt.Errorf("endpoint is not an absolute URL")
	case u.Scheme != "https":
		return fmt.Errorf("endpoint scheme %q, want https", u.Scheme)
	case u.Hostname() == "":
		return fmt.Errorf("endpoint has no host")
	case u.User != nil || u.Fragment != "":
		return fmt.Errorf("endpoint must not have user info or a fragment")
	}
	return nil
}

// decodeKey decodes base64url or standard base64, with or without
// padding: browsers give unpadded base64url, some libraries padded base64.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "+/") {
		return base64.RawStdEncoding.DecodeString(s)
	}
	return base64.RawURLEncoding.DecodeString(s)
}

// Token returns the canonical form of s, the device token registries keep:
// compact JSON with the members in a fixed order and the keys in unpadded
// base64url, so that one browser registering twice is one device.
func (s Subscription) Token() string {
	var raw subscriptionJSON
	raw.Endpoint = s.Endpoint
	raw.Keys.P256DH = base64.RawURLEncoding.EncodeToString(s.P256DH)
	raw.Keys.Auth = base64.RawURLEncoding.EncodeToString(s.Auth)
	b, _ := json.Marshal(raw) // strings only: cannot fail
	return string(b)
}

// CanonicalToken parses token and returns its canonical form (Token), or
// ParseSubscription's error.
func CanonicalToken(token string) (string, error) {
	s, err := ParseSubscription(token)
	if err != nil {
		return "", err
	}
	return s.Token(), nil
}

// RedactEndpoint returns what may be logged of an endpoint: its origin and
// length ("https://push.example.net/…(182)"). The path is the
// subscription's capability and is never logged.
func RedactEndpoint(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return fmt.Sprintf("…(%d)", len(endpoint))
	}
	return fmt.Sprintf("%s://%s/…(%d)", u.Scheme, u.Host, len(endpoint))
}
