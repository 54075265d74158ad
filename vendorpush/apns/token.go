package apns

import (
	"crypto/ecdsa"
	"encoding/pem"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plexpush/plex/vendorpush"
	"github.com/plexpush/plex/vendorpush/internal/eckey"
)

const (
	// tokenRefresh is the age at which a provider token is replaced. Apple
	// refuses tokens older than 60 minutes; ten minutes of margin absorb
	// clock skew between this host and Apple's.
	tokenRefresh = 50 * time.Minute
	// tokenMinAge is the youngest token that may be replaced: Apple answers
	// TooManyProviderTokenUpdates to more frequent updates.
	tokenMinAge = 20 * time.Minute
)

// providerToken signs and caches the ES256 provider token.
type providerToken struct {
	key    *ecdsa.PrivateKey
	keyID  string
	teamID string
	now    func() time.Time

	mu     sync.Mutex
	signed string
	issued time.Time
}

// get returns the current token and when it was issued, signing a new one
// when there is none or it is tokenRefresh old.
func (p *providerToken) get() (string, time.Time, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.signed != "" && now.Sub(p.issued) < tokenRefresh {
		return p.signed, p.issued, nil
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": p.teamID,
		"iat": now.Unix(),
	})
	// Exactly the header Apple documents: no "typ".
	t.Header = map[string]any{"alg": jwt.SigningMethodES256.Alg(), "kid": p.keyID}
	s, err := t.SignedString(p.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("apns: sign provider token: %w", err)
	}
	p.signed, p.issued = s, now
	return s, now, nil
}

// expired handles an ExpiredProviderToken reply about the token issued at
// issued. It drops that token, so the next get signs a new one, when it is
// still the current one and at least tokenMinAge old, and reports whether a
// new token will be used (the current one is already newer, or was
// dropped). A token younger than tokenMinAge is kept: replacing it would
// earn TooManyProviderTokenUpdates, and the reply says the clock is wrong,
// which a new token signed by the same clock cannot fix.
func (p *providerToken) expired(issued time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.issued.Equal(issued) {
		return p.issued.After(issued)
	}
	if p.now().Sub(p.issued) < tokenMinAge {
		return false
	}
	p.signed = ""
	return true
}

// parseKey reads the .p8 key: a PEM "PRIVATE KEY" (PKCS #8) block holding
// a P-256 ECDSA key, as Apple issues it; "EC PRIVATE KEY" (SEC 1) is
// accepted too. The error never quotes the key.
func parseKey(pemBytes []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("%w: apns: AuthKey is not PEM", vendorpush.ErrBadConfig)
	}
	k, err := eckey.FromPEM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: apns: AuthKey %v", vendorpush.ErrBadConfig, err)
	}
	return k, nil
}
