package apns

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/plexpush/plex/plog"
	"github.com/plexpush/plex/vendorpush"
	"github.com/plexpush/plex/vendorpush/internal/h2"
	"github.com/plexpush/plex/vendorpush/internal/retry"
)

// APNs endpoints (port 443; Apple also serves 2197 for networks that block
// 443).
const (
	ProductionURL = "https://api.push.apple.com"
	SandboxURL    = "https://api.sandbox.push.apple.com"
)

// Defaults of Config.
const (
	// DefaultMaxAttempts: the first try and two retries. Apple's 5xx and
	// 429 are short-lived; a third failure means an outage the next push
	// will meet too.
	DefaultMaxAttempts = 3
	// DefaultMinBackoff is the wait before the first retry; it doubles.
	DefaultMinBackoff = 500 * time.Millisecond
	// DefaultMaxBackoff caps a wait, and a longer Retry-After ends the
	// retries rather than hold a Dispatcher worker.
	DefaultMaxBackoff = 10 * time.Second
	// MaxPayload is the largest JSON payload APNs accepts for an alert or
	// background notification (VoIP's 5 KiB is not sent by this package).
	MaxPayload = 4096
	// MaxCollapseID is the longest apns-collapse-id, in bytes.
	MaxCollapseID = 64
)

// Config configures New. AuthKey, KeyID, TeamID and Topic are required;
// every other field's zero value is a working default.
type Config struct {
	// AuthKey is the content of the .p8 file downloaded from the Apple
	// developer account (Certificates, Identifiers & Profiles → Keys), a
	// PEM "PRIVATE KEY". It is parsed by New and never logged.
	AuthKey []byte
	// KeyID is the key's 10-character id, the provider token's "kid".
	KeyID string
	// TeamID is the developer team's 10-character id, the token's "iss".
	TeamID string
	// Topic is the app's bundle id, sent as apns-topic.
	Topic string

	// Sandbox sends to the development environment (apps signed with a
	// development profile). Zero: production.
	Sandbox bool
	// BaseURL overrides the endpoint (scheme and host, no path), for tests
	// or a proxy. Zero: ProductionURL, or SandboxURL when Sandbox is set.
	BaseURL string
	// HTTPClient makes the requests. It must speak HTTP/2: APNs refuses
	// HTTP/1.1. It is copied, and the copy never follows redirects. Nil: an
	// HTTP/2-only client with TLS 1.2 or later and the system roots.
	HTTPClient *http.Client

	// MaxAttempts bounds the tries of one Send. Zero: DefaultMaxAttempts.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the waits between tries. Zero:
	// DefaultMinBackoff, DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration

	// Now returns the current time, for the provider token and
	// apns-expiration. Nil: time.Now.
	Now func() time.Time
	// Logger receives a Debug record per retry and per new provider
	// token, never a token or the key. Nil: silent.
	Logger *slog.Logger
}

// Client sends notifications to APNs. Make it with New; it is safe for
// concurrent use and implements vendorpush.Sender.
type Client struct {
	base   string
	topic  string
	client *http.Client
	token  *providerToken
	retry  retry.Policy
	now    func() time.Time
	log    *slog.Logger
}

// New checks cfg and returns a Client. Errors wrap vendorpush.ErrBadConfig
// and never quote the key.
func New(cfg Config) (*Client, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: apns: "+format, append([]any{vendorpush.ErrBadConfig}, args...)...)
	}
	key, err := parseKey(cfg.AuthKey)
	if err != nil {
		return nil, err
	}
	for name, v := range map[string]string{"KeyID": cfg.KeyID, "TeamID": cfg.TeamID, "Topic": cfg.Topic} {
		if !headerSafe(v) {
			return nil, bad("%s must be non-empty printable ASCII without spaces", name)
		}
	}
	base := cfg.BaseURL
	switch {
	case base != "":
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
			return nil, bad("BaseURL must be scheme://host[:port]")
		}
		base = u.Scheme + "://" + u.Host
	case cfg.Sandbox:
		base = SandboxURL
	default:
		base = ProductionURL
	}
	if cfg.MaxAttempts < 0 || cfg.MinBackoff < 0 || cfg.MaxBackoff < 0 {
		return nil, bad("negative MaxAttempts, MinBackoff or MaxBackoff")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = h2.NewClient(nil)
	}
	client := *hc // a copy: the caller's stays as it was
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	pol := retry.Policy{
		Attempts: cmp.Or(cfg.MaxAttempts, DefaultMaxAttempts),
		Min:      cmp.Or(cfg.MinBackoff, DefaultMinBackoff),
		Max:      cmp.Or(cfg.MaxBackoff, DefaultMaxBackoff),
	}
	return &Client{
		base:   base,
		topic:  cfg.Topic,
		client: &client,
		token:  &providerToken{key: key, keyID: cfg.KeyID, teamID: cfg.TeamID, now: now},
		retry:  pol,
		now:    now,
		log:    plog.OrDiscard(cfg.Logger),
	}, nil
}

// headerSafe: non-empty printable ASCII without spaces, so that the value
// goes into a header or JWT claim unchanged.
func headerSafe(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) || r == ' ' {
			return false
		}
	}
	return true
}

// Send posts n to APNs; see the package documentation for the request, the
// retries and the errors. A token that is not hex fails with
// vendorpush.ErrInvalidToken without a request: APNs tokens are hex, and
// anything else would change the request path.
func (c *Client) Send(ctx context.Context, n vendorpush.Notification) error {
	if !isHex(n.Token) {
		return fmt.Errorf("apns: device token %s is not hex: %w", vendorpush.Redact(n.Token), vendorpush.ErrInvalidToken)
	}
	if len(n.Collapse) > MaxCollapseID {
		return fmt.Errorf("apns: collapse id of %d bytes, at most %d: %w", len(n.Collapse), MaxCollapseID, vendorpush.ErrBadNotification)
	}
	body, err := Payload(&n)
	if err != nil {
		return err
	}
	renewed := false
	attempts, err := c.retry.Do(ctx, func(ctx context.Context, attempt int) (bool, time.Duration, error) {
		jwt, issued, err := c.token.get()
		if err != nil {
			return false, 0, err
		}
		err = c.post(ctx, &n, body, jwt)
		var ae *Error
		switch {
		case err == nil:
			return false, 0, nil
		case errors.As(err, &ae):
			if ae.Reason == ReasonExpiredProviderToken && !renewed && c.token.expired(issued) {
				renewed = true
				c.log.Debug("apns: provider token expired; retrying with a new one")
				return true, 0, err
			}
			again := retry.Status(ae.Status)
			if again {
				c.log.Debug("apns: retryable reply", "attempt", attempt, "status", ae.Status, "reason", ae.Reason, "retry_after", ae.RetryAfter)
			}
			return again, ae.RetryAfter, err
		default: // the request did not complete
			again := ctx.Err() == nil
			if again {
				c.log.Debug("apns: request failed", "attempt", attempt, plog.Err(err))
			}
			return again, 0, err
		}
	})
	if err != nil && attempts > 1 {
		return fmt.Errorf("apns: %d attempts: %w", attempts, err)
	}
	return err
}

// post makes one request.
func (c *Client) post(ctx context.Context, n *vendorpush.Notification, body []byte, jwt string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/3/device/"+n.Token, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("apns: request for %s: %w", vendorpush.Redact(n.Token), h2.StripURL(err))
	}
	h := req.Header
	h.Set("Authorization", "bearer "+jwt)
	h.Set("Content-Type", "application/json")
	h.Set("Apns-Topic", c.topic)
	if n.Background() {
		h.Set("Apns-Push-Type", "background")
	} else {
		h.Set("Apns-Push-Type", "alert")
	}
	// Background notifications must go with 5: APNs refuses 10 for them.
	if n.High() && !n.Background() {
		h.Set("Apns-Priority", "10")
	} else {
		h.Set("Apns-Priority", "5")
	}
	switch {
	case n.TTL > 0:
		h.Set("Apns-Expiration", strconv.FormatInt(c.now().Add(n.TTL).Unix(), 10))
	case n.TTL < 0:
		h.Set("Apns-Expiration", "0")
	}
	if n.Collapse != "" {
		h.Set("Apns-Collapse-Id", n.Collapse)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		// *url.Error would quote the URL, which ends with the token.
		return fmt.Errorf("apns: POST /3/device/%s: %w", vendorpush.Redact(n.Token), h2.StripURL(err))
	}
	if resp.StatusCode == http.StatusOK {
		h2.Drain(resp.Body)
		c.log.Debug("apns: accepted", "device", vendorpush.Redact(n.Token), "apns_id", resp.Header.Get("Apns-Id"))
		return nil
	}
	raw, _ := h2.ReadReply(resp.Body)
	h2.Drain(resp.Body)
	e := &Error{Status: resp.StatusCode, ID: resp.Header.Get("Apns-Id")}
	var reply struct {
		Reason    string `json:"reason"`
		Timestamp int64  `json:"timestamp"` // ms
	}
	if json.Unmarshal(raw, &reply) == nil {
		e.Reason = reply.Reason
		if reply.Timestamp > 0 {
			e.Timestamp = time.UnixMilli(reply.Timestamp)
		}
	}
	if d, ok := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), c.now()); ok {
		e.RetryAfter = d
	}
	return e
}

// CloseIdleConnections closes the transport's idle connections (and the
// goroutines that serve them). The Client stays usable.
func (c *Client) CloseIdleConnections() { c.client.CloseIdleConnections() }

func isHex(s string) bool {
	if s == "" || len(s) > 512 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case '0' <= b && b <= '9', 'a' <= b && b <= 'f', 'A' <= b && b <= 'F':
		default:
			return false
		}
	}
	return true
}
