package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/plexpush/plex/plog"
)

const (
	// DefaultWebhookTimeout bounds one webhook call when WebhookConfig.Timeout
	// is zero: long enough for a database lookup behind a load balancer,
	// short enough that the app's auth timeout has not fired yet.
	DefaultWebhookTimeout = 3 * time.Second
	// maxWebhookReply caps the reply body read from the webhook; a reply of
	// {"uid": ...} is well under 1 KiB, so more is a broken endpoint.
	maxWebhookReply = 64 << 10
)

// WebhookConfig configures NewWebhook. URL is required; every other field's
// zero value is a working default.
type WebhookConfig struct {
	// URL is the http or https endpoint that receives
	// POST {"token":"…","remote":"ip:port"}. Required. Userinfo in the URL
	// is sent as Basic auth (unless Header sets Authorization) and is
	// redacted from errors and logs.
	URL string

	// Timeout bounds one call, connection and reply body included. Zero:
	// DefaultWebhookTimeout (3 s). Negative is a configuration error. The
	// ctx of Authenticate may end it sooner.
	Timeout time.Duration

	// Client makes the requests. Nil: a client with its own connection pool
	// (a clone of http.DefaultTransport). A given Client is copied, not
	// changed, and the copy's CheckRedirect refuses every redirect (see
	// Webhook).
	Client *http.Client

	// Header is added to every request, typically a shared secret such as
	// "Authorization: Bearer …" that lets the endpoint know the caller is
	// the node. Values are never logged; a value with CR, LF or NUL is a
	// configuration error. Content-Type is always application/json, and
	// Accept is application/json unless set here. Nil: no extra header.
	Header http.Header

	// Logger receives a Debug record per decision and a Warn record per
	// failed call, with the remote address and HTTP status, never the
	// token or the header values. Nil: silent.
	Logger *slog.Logger
}

// Webhook authenticates by asking the application: it POSTs
//
//	{"token":"<token>","remote":"<ip:port>"}
//
// with Content-Type application/json to the configured URL, and reads the
// reply:
//
//   - 200 with {"uid":"alice"}: the uid (which must be at most MaxUIDLen
//     bytes of UTF-8 without control characters; otherwise the endpoint is
//     broken: ErrUnavailable);
//   - 200 with {"ok":false,"reason":"…"} or an empty or missing uid,
//     401 or 403 (whatever the body): invalid credentials,
//     pack.CodeAuthFailed, with the reply's "reason" when it is short,
//     printable and free of the token;
//   - anything else is an ErrUnavailable error: another status (3xx, 404,
//     429, 5xx, even 201 or 204), a network error, a timeout, ctx done, or
//     a 200 whose body is over 64 KiB or is not such a JSON object.
//
// Redirects are never followed, to any host: following one would send the
// token to wherever a Location header points (307/308 repeat the POST), and
// a changed URL belongs in the configuration, not in a reply. A 3xx is
// reported as ErrUnavailable naming the status.
//
// Make it with NewWebhook; a Webhook is safe for concurrent use.
type Webhook struct {
	url      string // as configured
	redacted string // for errors and logs
	timeout  time.Duration
	client   *http.Client
	header   http.Header
	log      *slog.Logger
}

// NewWebhook checks cfg and returns the Webhook it describes. Errors wrap
// ErrBadConfig.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	if cfg.URL == "" {
		return nil, badConfig("webhook URL is empty")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, badConfig("webhook URL does not parse") // the error may quote a password
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, badConfig("webhook URL %s: scheme must be http or https", u.Redacted())
	}
	if u.Host == "" {
		return nil, badConfig("webhook URL %s has no host", u.Redacted())
	}
	timeout := cfg.Timeout
	switch {
	case timeout < 0:
		return nil, badConfig("negative webhook Timeout %v", timeout)
	case timeout == 0:
		timeout = DefaultWebhookTimeout
	}
	header := make(http.Header, len(cfg.Header))
	for k, vs := range cfg.Header {
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") {
				// Named by key only: the value is likely a secret.
				return nil, badConfig("webhook Header %q has a control character in its value", k)
			}
		}
		ck := http.CanonicalHeaderKey(k)
		header[ck] = append(header[ck], vs...)
	}
	var client http.Client
	if cfg.Client != nil {
		client = *cfg.Client // a shallow copy: the caller's Client stays as it was
	} else {
		client.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Webhook{
		url:      cfg.URL,
		redacted: u.Redacted(),
		timeout:  timeout,
		client:   &client,
		header:   header,
		log:      plog.OrDiscard(cfg.Logger),
	}, nil
}

// webhookRequest is the body POSTed to the webhook.
type webhookRequest struct {
	Token  string `json:"token"`
	Remote string `json:"remote"`
}

// webhookReply is the body read from a 200, 401 or 403 reply.
type webhookReply struct {
	UID    string `json:"uid"`
	OK     *bool  `json:"ok"`
	Reason string `json:"reason"`
}

// Authenticate asks the webhook about token; see Webhook for the outcomes.
// It returns when the reply has been read, the Timeout passes or ctx is
// done, whichever is first.
func (w *Webhook) Authenticate(ctx context.Context, token string, remote net.Addr) (string, error) {
	if w == nil || w.client == nil {
		return "", unavailable("Webhook not made by NewWebhook", nil)
	}
	ra := addrString(remote)
	uid, err := w.call(ctx, token, ra)
	switch {
	case err == nil:
		w.log.Debug("auth: webhook accepted", plog.KeyRemote, ra, plog.KeyUID, uid)
	case errors.Is(err, context.Canceled):
		// The caller gave up (the app hung up, the node shuts down).
		w.log.Debug("auth: webhook call cancelled", plog.KeyRemote, ra, plog.Err(err))
	case errors.Is(err, ErrUnavailable):
		w.log.Warn("auth: webhook failed", plog.KeyRemote, ra, plog.Err(err))
	default:
		w.log.Debug("auth: webhook refused", plog.KeyRemote, ra, plog.Err(err))
	}
	return uid, err
}

func (w *Webhook) call(ctx context.Context, token, remote string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()

	body, err := json.Marshal(webhookRequest{Token: token, Remote: remote})
	if err != nil { // cannot happen for two strings; kept for the contract
		return "", unavailable("encode request", nil)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return "", unavailable("webhook "+w.redacted, nil)
	}
	req.Header = w.header.Clone() // the transport may add to it; w.header is shared
	req.Header.Set("Content-Type", "application/json")
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}

	resp, err := w.client.Do(req)
	if err != nil {
		// *url.Error names the method and the URL with its password
		// stripped; the token is only in the body, which it never quotes.
		return "", unavailable("webhook "+w.redacted, errCause(ctx, err))
	}
	defer resp.Body.Close()

	switch resp.StatusCode {
	case http.StatusOK:
		reply, err := readReply(resp.Body)
		if err != nil {
			return "", unavailable("webhook "+w.redacted+": reading reply", errCause(ctx, err))
		}
		var r webhookReply
		if err := json.Unmarshal(reply, &r); err != nil {
			return "", unavailable("webhook "+w.redacted+": reply is not a JSON object with a string uid", nil)
		}
		if (r.OK != nil && !*r.OK) || r.UID == "" {
			return "", failed(safeReason(r.Reason, token, "rejected by webhook"))
		}
		if p := uidProblem(r.UID); p != "" {
			return "", unavailable("webhook "+w.redacted+" returned a bad uid: "+p, nil)
		}
		return r.UID, nil
	case http.StatusUnauthorized, http.StatusForbidden:
		// The status decides; a reason in the body is optional, so a body
		// that is missing, not JSON, too large or cut short is ignored.
		var r webhookReply
		if reply, err := readReply(resp.Body); err == nil {
			_ = json.Unmarshal(reply, &r)
		}
		return "", failed(safeReason(r.Reason, token, "rejected by webhook"))
	}
	return "", unavailable("webhook "+w.redacted+" answered "+strconv.Itoa(resp.StatusCode), nil)
}

// errReplyTooLarge is returned by readReply for a body over maxWebhookReply.
var errReplyTooLarge = errors.New("reply larger than 64 KiB")

// readReply reads a reply body of at most maxWebhookReply bytes. It reads
// one byte past the cap to tell "exactly 64 KiB" from "more".
func readReply(body io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(body, maxWebhookReply+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxWebhookReply {
		return nil, errReplyTooLarge
	}
	return b, nil
}

// errCause returns ctx's error when ctx ended the call (so that
// errors.Is(err, context.DeadlineExceeded) or context.Canceled holds), and
// err otherwise.
func errCause(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

// CloseIdleConnections closes the idle keep-alive connections of the
// Webhook's HTTP transport, ending their goroutines. Call it when the
// Webhook is no longer used (for example after the server shut down); the
// Webhook stays usable and dials again when needed.
func (w *Webhook) CloseIdleConnections() { w.client.CloseIdleConnections() }
