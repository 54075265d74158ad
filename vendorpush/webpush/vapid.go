package webpush

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plexpush/plex/vendorpush"
	"github.com/plexpush/plex/vendorpush/internal/eckey"
)

// vapidLifetime is the exp of a VAPID token, counted from its signing.
// RFC 8292 §2 forbids more than 24 hours; 12 leaves room for a clock
// that runs ahead of the push service's.
const vapidLifetime = 12 * time.Hour

// GenerateKey returns a new VAPID key pair (ECDSA P-256, RFC 8292 §3.2).
func GenerateKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// MarshalKey returns k as a PEM "PRIVATE KEY" (PKCS #8), the form
// ParseKey reads and plexd keeps in its data directory.
func MarshalKey(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseKey reads a VAPID private key: a PEM "PRIVATE KEY" (PKCS #8) or
// "EC PRIVATE KEY" (SEC 1) block holding a P-256 key, or the 32-byte
// private scalar in base64url, the form other Web Push libraries print
// ("web-push generate-vapid-keys"). Errors wrap vendorpush.ErrBadConfig
// and never quote the key.
func ParseKey(b []byte) (*ecdsa.PrivateKey, error) {
	bad := func(what string) error { return fmt.Errorf("%w: webpush: VAPID key %s", vendorpush.ErrBadConfig, what) }
	block, _ := pem.Decode(b)
	if block == nil {
		raw, err := decodeKey(string(bytes.TrimSpace(b)))
		if err != nil || len(raw) != 32 {
			return nil, bad("is neither PEM nor a 32-byte base64url private key")
		}
		k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), raw)
		if err != nil {
			return nil, bad("is not a P-256 private key")
		}
		return k, nil
	}
	k, err := eckey.FromPEM(block)
	if err != nil {
		return nil, bad(err.Error())
	}
	return k, nil
}

// PublicKey returns k's public key as the browser's applicationServerKey
// wants it and the k= parameter carries it: the uncompressed point (65
// bytes) in unpadded base64url.
func PublicKey(k *ecdsa.PrivateKey) string {
	b, err := k.PublicKey.Bytes()
	if err != nil { // only for a key off P-256, which ParseKey refuses
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// vapid signs the Authorization header of RFC 8292.
type vapid struct {
	key     *ecdsa.PrivateKey
	public  string // PublicKey(key)
	subject string
}

// header returns "vapid t=<JWT>, k=<public key>" for endpoint: an ES256
// JWT with aud = the endpoint's origin, exp = now + vapidLifetime, sub =
// the contact. A token is signed per request: an ES256 signature costs
// tens of microseconds, a push service round trip milliseconds, and
// nothing is cached that could outlive its exp.
func (v *vapid) header(endpoint *url.URL, now time.Time) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"aud": endpoint.Scheme + "://" + endpoint.Host,
		"exp": now.Add(vapidLifetime).Unix(),
		"sub": v.subject,
	})
	s, err := t.SignedString(v.key)
	if err != nil {
		return "", fmt.Errorf("webpush: sign VAPID token: %w", err)
	}
	return "vapid t=" + s + ", k=" + v.public, nil
}

// checkSubject: RFC 8292 §2.1 asks for a mailto: or https: URI, which
// push services (Apple's requires it) use to contact the sender's
// operator.
func checkSubject(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "mailto" && u.Scheme != "https") || (u.Opaque == "" && u.Host == "") {
		return fmt.Errorf("%w: webpush: Subject %q must be a mailto: or https: URI", vendorpush.ErrBadConfig, s)
	}
	return nil
}
