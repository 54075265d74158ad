package fcm

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
	"strings"
	"time"

	"github.com/plexpush/plex/plog"
	"github.com/plexpush/plex/vendorpush"
	"github.com/plexpush/plex/vendorpush/internal/h2"
	"github.com/plexpush/plex/vendorpush/internal/reason"
	"github.com/plexpush/plex/vendorpush/internal/retry"
)

// BaseURL is FCM's endpoint.
const BaseURL = "https://fcm.googleapis.com"

// Defaults of Config.
const (
	// DefaultMaxAttempts: the first try and two retries. Google asks for
	// exponential backoff on 429 and 5xx; past a third failure the next
	// push will meet the same outage.
	DefaultMaxAttempts = 3
	// DefaultMinBackoff is the wait before the first retry; it doubles.
	DefaultMinBackoff = 500 * time.Millisecond
	// DefaultMaxBackoff caps a wait, and a longer Retry-After (FCM sends
	// 60 s with QUOTA_EXCEEDED) ends the retries rather than hold a
	// Dispatcher worker for a minute.
	DefaultMaxBackoff = 10 * time.Second
)

// Config configures New. ServiceAccount is required; every other field's
// zero value is a working default.
type Config struct {
	// ServiceAccount is the content of a service-account JSON key of the
	// Firebase project (Google Cloud console → IAM → Service accounts →
	// Keys). It is parsed by New and never logged.
	ServiceAccount []byte
	// ProjectID is the Firebase project id. Zero: the key's project_id.
	ProjectID string

	// BaseURL overrides the FCM endpoint (scheme and host), for tests or a
	// proxy. Zero: BaseURL.
	BaseURL string
	// TokenURL overrides the OAuth 2.0 token endpoint, for tests. Zero: the
	// key's token_uri, or DefaultTokenURL.
	TokenURL string
	// HTTPClient makes the requests, to FCM and to the token endpoint. It
	// is copied, and the copy never follows redirects. Nil: an HTTP/2-only
	// client with TLS 1.2 or later and the system roots.
	HTTPClient *http.Client

	// MaxAttempts bounds the tries of one Send. Zero: DefaultMaxAttempts.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the waits between tries. Zero:
	// DefaultMinBackoff, DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration

	// Now returns the current time, for the assertion, the token cache and
	// apns-expiration. Nil: time.Now.
	Now func() time.Time
	// Logger receives a Debug record per retry and per access token
	// fetched, never a token or the key. Nil: silent.
	Logger *slog.Logger
}

// Client sends notifications to FCM. Make it with New; it is safe for
// concurrent use and implements vendorpush.Sender.
type Client struct {
	url    string // …/v1/projects/<id>/messages:send
	client *http.Client
	tokens *tokenSource
	retry  retry.Policy
	now    func() time.Time
	log    *slog.Logger
}

// New checks cfg and returns a Client. Errors wrap vendorpush.ErrBadConfig
// and never quote the key.
func New(cfg Config) (*Client, error) {
	sa, key, err := parseServiceAccount(cfg.ServiceAccount)
	if err != nil {
		return nil, err
	}
	project := cmp.Or(cfg.ProjectID, sa.ProjectID)
	if project == "" {
		return nil, badConfig("no ProjectID and none in the ServiceAccount")
	}
	base, err := checkURL("BaseURL", cmp.Or(cfg.BaseURL, BaseURL), false)
	if err != nil {
		return nil, err
	}
	tokenURL, err := checkURL("TokenURL", cmp.Or(cfg.TokenURL, sa.TokenURI, DefaultTokenURL), true)
	if err != nil {
		return nil, err
	}
	if cfg.MaxAttempts < 0 || cfg.MinBackoff < 0 || cfg.MaxBackoff < 0 {
		return nil, badConfig("negative MaxAttempts, MinBackoff or MaxBackoff")
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
	return &Client{
		url:    base + "/v1/projects/" + url.PathEscape(project) + "/messages:send",
		client: &client,
		tokens: &tokenSource{
			key: key, keyID: sa.PrivateKeyID, email: sa.ClientEmail, url: tokenURL,
			client: &client, now: now, refresh: make(chan struct{}, 1),
		},
		retry: retry.Policy{
			Attempts: cmp.Or(cfg.MaxAttempts, DefaultMaxAttempts),
			Min:      cmp.Or(cfg.MinBackoff, DefaultMinBackoff),
			Max:      cmp.Or(cfg.MaxBackoff, DefaultMaxBackoff),
		},
		now: now,
		log: plog.OrDiscard(cfg.Logger),
	}, nil
}

// checkURL returns raw as scheme://host[/path], refusing other schemes,
// a missing host, and a path unless withPath.
func checkURL(name, raw string, withPath bool) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || (!withPath && strings.Trim(u.Path, "/") != "") {
		if withPath {
			return "", badConfig("%s must be an http(s) URL", name)
		}
		return "", badConfig("%s must be scheme://host[:port]", name)
	}
	if !withPath {
		return u.Scheme + "://" + u.Host, nil
	}
	return u.String(), nil
}

// Send posts n to FCM; see the package documentation for the request, the
// retries and the errors. An empty token fails with
// vendorpush.ErrInvalidToken without a request.
func (c *Client) Send(ctx context.Context, n vendorpush.Notification) error {
	if n.Token == "" || strings.ContainsFunc(n.Token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("fcm: device token %s is empty or has spaces: %w", vendorpush.Redact(n.Token), vendorpush.ErrInvalidToken)
	}
	body, err := Body(&n, c.now())
	if err != nil {
		return err
	}
	reauth := false
	attempts, err := c.retry.Do(ctx, func(ctx context.Context, attempt int) (bool, time.Duration, error) {
		tok, again, err := c.tokens.get(ctx)
		if err != nil {
			var ae *AuthError
			if errors.As(err, &ae) {
				return again, ae.RetryAfter, err
			}
			return again, 0, err
		}
		err = c.post(ctx, &n, body, tok)
		var fe *Error
		switch {
		case err == nil:
			return false, 0, nil
		case errors.As(err, &fe):
			if fe.HTTPStatus == http.StatusUnauthorized && fe.Code != CodeThirdPartyAuthError && !reauth {
				// The token may have been revoked or expired early:
				// fetch a new one, once.
				reauth = true
				c.tokens.invalidate(tok)
				c.log.Debug("fcm: 401; retrying with a new access token")
				return true, 0, err
			}
			again := retry.Status(fe.HTTPStatus)
			if again {
				c.log.Debug("fcm: retryable reply", "attempt", attempt, "status", fe.HTTPStatus, "code", fe.Code, "retry_after", fe.RetryAfter)
			}
			return again, fe.RetryAfter, err
		default:
			again := ctx.Err() == nil
			if again {
				c.log.Debug("fcm: request failed", "attempt", attempt, plog.Err(err))
			}
			return again, 0, err
		}
	})
	if err != nil && attempts > 1 {
		return fmt.Errorf("fcm: %d attempts: %w", attempts, err)
	}
	return err
}

// post makes one request.
func (c *Client) post(ctx context.Context, n *vendorpush.Notification, body []byte, tok string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("fcm: request: %w", h2.StripURL(err))
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("fcm: POST messages:send for %s: %w", vendorpush.Redact(n.Token), h2.StripURL(err))
	}
	raw, _ := h2.ReadReply(resp.Body)
	h2.Drain(resp.Body)
	if resp.StatusCode == http.StatusOK {
		var ok struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(raw, &ok)
		c.log.Debug("fcm: accepted", "device", vendorpush.Redact(n.Token), "name", ok.Name)
		return nil
	}
	return parseError(resp, raw, n.Token, c.now())
}

// parseError reads an FCM error reply: google.rpc.Status with FcmError and
// BadRequest details.
func parseError(resp *http.Response, raw []byte, token string, now time.Time) *Error {
	e := &Error{HTTPStatus: resp.StatusCode}
	var reply struct {
		Error struct {
			Message string `json:"message"`
			Status  string `json:"status"`
			Details []struct {
				Type            string `json:"@type"`
				ErrorCode       string `json:"errorCode"`
				FieldViolations []struct {
					Field string `json:"field"`
				} `json:"fieldViolations"`
			} `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &reply) == nil {
		e.Status = reason.Clip(reply.Error.Status)
		msg := reply.Error.Message
		if token != "" {
			msg = strings.ReplaceAll(msg, token, vendorpush.Redact(token))
		}
		e.Message = reason.Clip(msg)
		for _, d := range reply.Error.Details {
			switch {
			case strings.HasSuffix(d.Type, "google.firebase.fcm.v1.FcmError"):
				e.Code = reason.Clip(d.ErrorCode)
			case strings.HasSuffix(d.Type, "google.rpc.BadRequest"):
				for _, v := range d.FieldViolations {
					if v.Field == "message.token" {
						e.TokenField = true
					}
				}
			}
		}
	}
	if d, ok := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
		e.RetryAfter = d
	}
	return e
}

// CloseIdleConnections closes the transport's idle connections (and the
// goroutines that serve them). The Client stays usable.
func (c *Client) CloseIdleConnections() { c.client.CloseIdleConnections() }
