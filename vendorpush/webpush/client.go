package webpush

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/plexpush/plex/plog"
	"github.com/plexpush/plex/vendorpush"
	"github.com/plexpush/plex/vendorpush/internal/h2"
	"github.com/plexpush/plex/vendorpush/internal/reason"
	"github.com/plexpush/plex/vendorpush/internal/retry"
)

// Defaults of Config and of a notification.
const (
	// DefaultMaxAttempts: the first try and two retries, as for APNs and
	// FCM: a push service's 429 and 5xx are short-lived, and past a third
	// failure the next push meets the same outage.
	DefaultMaxAttempts = 3
	// DefaultMinBackoff is the wait before the first retry; it doubles.
	DefaultMinBackoff = 500 * time.Millisecond
	// DefaultMaxBackoff caps a wait, and a longer Retry-After ends the
	// retries rather than hold a Dispatcher worker.
	DefaultMaxBackoff = 10 * time.Second
	// DefaultTTL is the TTL header when the notification sets none: RFC
	// 8030 requires one, and four weeks is what FCM keeps by default, so
	// a browser that comes back within it gets the notification as an
	// Android phone would. Push services may keep it for less.
	DefaultTTL = 28 * 24 * time.Hour
	// maxTopic is the longest Topic header (RFC 8030 §5.4).
	maxTopic = 32
)

// Config configures New. Key and Subject are required; every other
// field's zero value is a working default.
type Config struct {
	// Key is the VAPID key pair (RFC 8292): its private half signs every
	// request, its public half is the applicationServerKey the browser
	// subscribed with (PublicKey). Changing it invalidates every
	// subscription: the push service answers 403 to the new key.
	Key *ecdsa.PrivateKey
	// Subject is the JWT's "sub": a mailto: or https: URI where the push
	// service's operator can reach yours ("mailto:ops@example.com").
	Subject string

	// HTTPClient makes the requests. It is copied, and the copy never
	// follows redirects. Nil: NewHTTPClient(nil, AllowPrivateAddresses).
	HTTPClient *http.Client
	// AllowPrivateAddresses lets the default client post to endpoints on
	// loopback, private and link-local addresses (a self-hosted push
	// service inside the network; tests). Zero: refused, because
	// endpoints come from users (see NewHTTPClient). Ignored when
	// HTTPClient is set: that client's dialer decides.
	AllowPrivateAddresses bool

	// MaxAttempts bounds the tries of one Send. Zero: DefaultMaxAttempts.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the waits between tries. Zero:
	// DefaultMinBackoff, DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration

	// Now returns the current time, for the VAPID token's exp and
	// Retry-After dates. Nil: time.Now.
	Now func() time.Time
	// Logger receives a Debug record per accepted message and per retry,
	// with endpoints as RedactEndpoint shows them; never a key or a
	// token. Nil: silent.
	Logger *slog.Logger
}

// Client sends Web Push messages. Make it with New; it is safe for
// concurrent use and implements vendorpush.Sender.
type Client struct {
	vapid  vapid
	client *http.Client
	retry  retry.Policy
	now    func() time.Time
	log    *slog.Logger
}

// New checks cfg and returns a Client. Errors wrap vendorpush.ErrBadConfig.
func New(cfg Config) (*Client, error) {
	if cfg.Key == nil || PublicKey(cfg.Key) == "" {
		return nil, fmt.Errorf("%w: webpush: Key must be a P-256 ECDSA key", vendorpush.ErrBadConfig)
	}
	if err := checkSubject(cfg.Subject); err != nil {
		return nil, err
	}
	if cfg.MaxAttempts < 0 || cfg.MinBackoff < 0 || cfg.MaxBackoff < 0 {
		return nil, fmt.Errorf("%w: webpush: negative MaxAttempts, MinBackoff or MaxBackoff", vendorpush.ErrBadConfig)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = NewHTTPClient(nil, cfg.AllowPrivateAddresses)
	}
	client := *hc // a copy: the caller's stays as it was
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Client{
		vapid:  vapid{key: cfg.Key, public: PublicKey(cfg.Key), subject: cfg.Subject},
		client: &client,
		retry: retry.Policy{
			Attempts: cmp.Or(cfg.MaxAttempts, DefaultMaxAttempts),
			Min:      cmp.Or(cfg.MinBackoff, DefaultMinBackoff),
			Max:      cmp.Or(cfg.MaxBackoff, DefaultMaxBackoff),
		},
		now: now,
		log: plog.OrDiscard(cfg.Logger),
	}, nil
}

// PublicKey returns the VAPID public key in the form the browser's
// PushManager.subscribe takes as applicationServerKey.
func (c *Client) PublicKey() string { return c.vapid.public }

// Send encrypts n for the subscription in n.Token and posts it to the
// subscription's endpoint; see the package documentation for the request,
// the retries and the errors. A token that is not a valid subscription
// fails with vendorpush.ErrInvalidToken (and ErrBadSubscription) without
// a request.
func (c *Client) Send(ctx context.Context, n vendorpush.Notification) error {
	sub, err := ParseSubscription(n.Token)
	if err != nil {
		return fmt.Errorf("webpush: device %s: %w (%w)", vendorpush.Redact(n.Token), vendorpush.ErrInvalidToken, err)
	}
	endpoint, _ := url.Parse(sub.Endpoint) // ParseSubscription parsed it
	ua, _ := ecdh.P256().NewPublicKey(sub.P256DH)
	plain, err := Payload(&n)
	if err != nil {
		return err
	}
	body, err := seal(plain, ua, sub.Auth)
	if err != nil {
		return err
	}
	where := RedactEndpoint(sub.Endpoint)
	attempts, err := c.retry.Do(ctx, func(ctx context.Context, attempt int) (bool, time.Duration, error) {
		err := c.post(ctx, endpoint, &n, body)
		var we *Error
		switch {
		case err == nil:
			return false, 0, nil
		case errors.As(err, &we):
			again := retry.Status(we.Status)
			if again {
				c.log.Debug("webpush: retryable reply", "attempt", attempt, "endpoint", where, "status", we.Status, "retry_after", we.RetryAfter)
			}
			return again, we.RetryAfter, err
		case errors.Is(err, errPrivateAddress):
			return false, 0, err // the same address next time
		default: // the request did not complete
			again := ctx.Err() == nil
			if again {
				c.log.Debug("webpush: request failed", "attempt", attempt, "endpoint", where, plog.Err(err))
			}
			return again, 0, err
		}
	})
	if err != nil && attempts > 1 {
		return fmt.Errorf("webpush: %d attempts: %w", attempts, err)
	}
	return err
}

// seal encrypts plain with a new sender key and salt, as RFC 8291 asks
// for every message. A retry resends the same body: it is the same
// message.
func seal(plain []byte, ua *ecdh.PublicKey, auth []byte) ([]byte, error) {
	as, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	return encrypt(plain, ua, auth, as, salt)
}

// post makes one request (RFC 8030 §5).
func (c *Client) post(ctx context.Context, endpoint *url.URL, n *vendorpush.Notification, body []byte) error {
	where := RedactEndpoint(endpoint.String())
	auth, err := c.vapid.header(endpoint, c.now())
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webpush: request to %s: %w", where, h2.StripURL(err))
	}
	h := req.Header
	h.Set("Authorization", auth)
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Encoding", "aes128gcm")
	h.Set("TTL", strconv.FormatInt(ttlSeconds(n.TTL), 10))
	if n.High() {
		h.Set("Urgency", "high")
	} else {
		h.Set("Urgency", "normal")
	}
	if n.Collapse != "" {
		h.Set("Topic", Topic(n.Collapse))
	}
	resp, err := c.client.Do(req)
	if err != nil {
		// *url.Error would quote the endpoint, a capability.
		return fmt.Errorf("webpush: POST %s: %w", where, h2.StripURL(err))
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		h2.Drain(resp.Body)
		c.log.Debug("webpush: accepted", "endpoint", where, "status", resp.StatusCode)
		return nil
	}
	raw, _ := h2.ReadReply(resp.Body)
	h2.Drain(resp.Body)
	e := &Error{Status: resp.StatusCode, Message: reason.Clip(string(bytes.TrimSpace(raw)))}
	if d, ok := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), c.now()); ok {
		e.RetryAfter = d
	}
	return e
}

// ttlSeconds is the TTL header: DefaultTTL for zero, 0 (now or never) for
// a negative TTL, whole seconds rounded up otherwise.
func ttlSeconds(ttl time.Duration) int64 {
	switch {
	case ttl == 0:
		ttl = DefaultTTL
	case ttl < 0:
		return 0
	}
	return int64((ttl + time.Second - 1) / time.Second)
}

// Topic returns the Topic header for a collapse key: the key itself when
// it is at most 32 characters of the base64url alphabet (RFC 8030 §5.4),
// otherwise the first 32 characters of the base64url SHA-256 of it, so
// that any collapse key a push client chose still collapses.
func Topic(collapse string) string {
	if len(collapse) <= maxTopic && urlSafe(collapse) {
		return collapse
	}
	sum := sha256.Sum256([]byte(collapse))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:maxTopic]
}

func urlSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '-', b == '_':
		default:
			return false
		}
	}
	return true
}

// CloseIdleConnections closes the transport's idle connections (and the
// goroutines that serve them). The Client stays usable.
func (c *Client) CloseIdleConnections() { c.client.CloseIdleConnections() }
