package fcm

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plexpush/plex/vendorpush"
	"github.com/plexpush/plex/vendorpush/internal/h2"
	"github.com/plexpush/plex/vendorpush/internal/reason"
	"github.com/plexpush/plex/vendorpush/internal/retry"
)

const (
	// Scope is the OAuth 2.0 scope that allows sending FCM messages.
	Scope = "https://www.googleapis.com/auth/firebase.messaging"
	// DefaultTokenURL is Google's token endpoint, used when the service
	// account JSON names none.
	DefaultTokenURL = "https://oauth2.googleapis.com/token"
	// grantType is the JWT-bearer grant of RFC 7523.
	grantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	// assertionLife is the assertion's lifetime: Google accepts at most an
	// hour, and the assertion is used once, right away.
	assertionLife = time.Hour
	// refreshMargin is how long before its expiry an access token is
	// replaced: a request that starts with it must still carry a valid
	// token when it reaches Google, retries included.
	refreshMargin = 5 * time.Minute
)

// serviceAccount is the part of a service-account JSON key this package
// reads.
type serviceAccount struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

// parseServiceAccount reads and checks the JSON key. Errors never quote it.
func parseServiceAccount(b []byte) (*serviceAccount, *rsa.PrivateKey, error) {
	var sa serviceAccount
	if err := json.Unmarshal(b, &sa); err != nil {
		return nil, nil, badConfig("ServiceAccount is not JSON")
	}
	if sa.Type != "service_account" {
		return nil, nil, badConfig("ServiceAccount type is %q, want \"service_account\"", reason.Clip(sa.Type))
	}
	if sa.ClientEmail == "" {
		return nil, nil, badConfig("ServiceAccount has no client_email")
	}
	block, _ := pem.Decode([]byte(sa.PrivateKey))
	if block == nil {
		return nil, nil, badConfig("ServiceAccount private_key is not PEM")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, nil, badConfig("ServiceAccount private_key is a PEM %q block, want PRIVATE KEY", block.Type)
	}
	if err != nil {
		return nil, nil, badConfig("ServiceAccount private_key does not parse")
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, badConfig("ServiceAccount private_key is not an RSA key")
	}
	return &sa, rk, nil
}

// tokenSource gets and caches OAuth 2.0 access tokens.
type tokenSource struct {
	key    *rsa.PrivateKey
	keyID  string
	email  string
	url    string
	client *http.Client
	now    func() time.Time

	refresh chan struct{} // one slot: one refresh at a time, waiters honour ctx

	mu      sync.Mutex
	token   string
	renewAt time.Time
}

// get returns a valid access token, fetching one when the cached token is
// missing or due. On error, again says whether a later attempt may succeed
// (a network error, 429 or 5xx from the token endpoint).
func (s *tokenSource) get(ctx context.Context) (tok string, again bool, err error) {
	if tok := s.cached(); tok != "" {
		return tok, false, nil
	}
	select {
	case s.refresh <- struct{}{}:
	case <-ctx.Done():
		return "", false, ctx.Err()
	}
	defer func() { <-s.refresh }()
	if tok := s.cached(); tok != "" { // another Send refreshed it meanwhile
		return tok, false, nil
	}
	return s.fetch(ctx)
}

func (s *tokenSource) cached() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && s.now().Before(s.renewAt) {
		return s.token
	}
	return ""
}

// invalidate drops tok if it is still the cached token (FCM said 401).
func (s *tokenSource) invalidate(tok string) {
	s.mu.Lock()
	if s.token == tok {
		s.token = ""
	}
	s.mu.Unlock()
}

// fetch exchanges a fresh assertion for an access token and caches it; its
// results are get's.
func (s *tokenSource) fetch(ctx context.Context) (string, bool, error) {
	now := s.now()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss":   s.email,
		"scope": Scope,
		"aud":   s.url,
		"iat":   now.Unix(),
		"exp":   now.Add(assertionLife).Unix(),
	})
	if s.keyID != "" {
		t.Header["kid"] = s.keyID
	}
	assertion, err := t.SignedString(s.key)
	if err != nil {
		return "", false, fmt.Errorf("fcm: sign assertion: %w", err)
	}
	form := url.Values{"grant_type": {grantType}, "assertion": {assertion}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, strings.NewReader(form.Encode()))
	if err != nil {
		return "", false, fmt.Errorf("fcm: token request: %w", h2.StripURL(err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", ctx.Err() == nil, fmt.Errorf("fcm: token endpoint: %w", h2.StripURL(err))
	}
	raw, rerr := h2.ReadReply(resp.Body)
	h2.Drain(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e := &AuthError{HTTPStatus: resp.StatusCode}
		var reply struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(raw, &reply) == nil {
			e.Code, e.Description = reason.Clip(reply.Error), reason.Clip(reply.Description)
		}
		if d, ok := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), s.now()); ok {
			e.RetryAfter = d
		}
		return "", retry.Status(e.HTTPStatus), e
	}
	var reply struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if rerr != nil || json.Unmarshal(raw, &reply) != nil || reply.AccessToken == "" || reply.ExpiresIn <= 0 ||
		(reply.TokenType != "" && !strings.EqualFold(reply.TokenType, "Bearer")) {
		return "", false, errors.New("fcm: token endpoint: malformed reply")
	}
	life := time.Duration(reply.ExpiresIn) * time.Second
	s.mu.Lock()
	s.token = reply.AccessToken
	s.renewAt = now.Add(life - min(refreshMargin, life/2))
	s.mu.Unlock()
	return reply.AccessToken, false, nil
}

func badConfig(format string, args ...any) error {
	return fmt.Errorf("%w: fcm: "+format, append([]any{vendorpush.ErrBadConfig}, args...)...)
}
