package client

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
)

// Config configures a PlexClient. The zero value of every field but one of
// Addrs/DiscoveryURL and Secret is valid; each field says what zero means.
type Config struct {
	// Addrs are the nodes' TCP addresses (host:port). The client keeps one
	// connection to each and spreads requests over them round-robin.
	Addrs []string
	// DiscoveryURL, used when Addrs is empty, is a node's HTTP API
	// ("http://host:port", or the full URL of GET /plex/v1/host): before
	// each connection attempt the client asks it which node to dial.
	DiscoveryURL string
	// Secret is the nodes' inner secret (server.Config.InnerSecret), or an
	// app's inner secret (server.App.InnerSecret). A plain string, so that a
	// secret read from a file or the environment needs no conversion; it
	// never reaches a log: Config prints and logs it as REDACTED (String,
	// GoString, LogValue), and the client keeps it as a plog.Secret.
	Secret string

	// DialTimeout bounds one connection attempt: dial plus inner auth.
	// Zero: 5s.
	DialTimeout time.Duration
	// RequestTimeout bounds each of the two waits of a request: for a
	// connected node to take it (ErrNoNode after that), and for its reply
	// once written. A node that leaves a request unanswered this long is
	// stalled: its connection is closed and redialled, and requests it had
	// not written yet go to another node. Zero: 10s.
	RequestTimeout time.Duration
	// MaxPending bounds the requests waiting for a node while none is
	// connected (more fail at once with ErrQueueFull) and the requests one
	// node connection holds (a full node is skipped). Zero: 16384, room for
	// a burst to 10,000 users in flight at once.
	MaxPending int

	// ByteOrder of frame headers; it must match the nodes'. Zero: big-endian.
	ByteOrder pack.Order
	// Codec of the frames. Zero (AutoCodec): JSON.
	Codec pack.Codec
	// TLS, when set, wraps each connection in TLS (the node's Config.TLS).
	// An empty ServerName defaults to the host of the address dialled.
	// Nil: plain TCP.
	TLS *tls.Config
	// Backoff between reconnect attempts to a node. Zero: see Backoff.
	Backoff Backoff
	// Logger receives connection lifecycle logs. Nil: silent.
	Logger *slog.Logger
}

// String prints c with its Secret redacted (also for %v and %+v).
func (c Config) String() string {
	c.Secret = redacted(c.Secret)
	type plain Config // no String method: no recursion
	return fmt.Sprintf("%+v", plain(c))
}

// GoString is String for %#v.
func (c Config) GoString() string { return "client.Config" + c.String() }

// LogValue logs c with its Secret redacted.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

func redacted(s string) string {
	if s == "" {
		return ""
	}
	return plog.Secret(s).String()
}

// PlexClient defaults.
const (
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 10 * time.Second
	DefaultMaxPending     = 16384
)

func (c Config) withDefaults() Config {
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.MaxPending <= 0 {
		c.MaxPending = DefaultMaxPending
	}
	c.Backoff = c.Backoff.withDefaults()
	return c
}

// Result says what a node did with a push: the /reply body, pack.Outcome
// (server.Outcome is the same type).
type Result = pack.Outcome

// SendOption adjusts one push request.
type SendOption func(*pack.PushRequest)

// Persist makes the push persistent: the node stores it until every device
// of the user acked it or ttl passes (zero ttl: the node's default), and
// replays it after reconnects. Only for pushes to users.
func Persist(ttl time.Duration) SendOption {
	return func(r *pack.PushRequest) { r.Persist, r.TTLMS = true, ttl.Milliseconds() }
}

// AckTimeout asks, for a persistent push, for the node's vendor fallback
// (server.Config.OnUnacked; plexd's vendor push) when no device of the
// user acked it within d: the app holds a connection but did not process
// the push. Zero: the app's default (the node's -ack-timeout, apps list
// ack-timeout). At most the push's TTL.
func AckTimeout(d time.Duration) SendOption {
	return func(r *pack.PushRequest) {
		r.AckTimeoutMS = 0
		if d > 0 {
			r.AckTimeoutMS = max(d.Milliseconds(), 1)
		}
	}
}

// Meta adds a meta header that the app receives with the push.
func Meta(key, value string) SendOption {
	return func(r *pack.PushRequest) {
		if r.Meta == nil {
			r.Meta = make(map[string]string, 1)
		}
		r.Meta[key] = value
	}
}

// badRequest is the error for a push the client refuses before sending:
// the same code a node would answer.
func badRequest(reason string) error {
	return &pack.CodeError{Code: pack.CodeBadRequest, Reason: "client: " + reason}
}

// checkPush refuses what a node would refuse, without a round trip.
func checkPush(uri string, body []byte) error {
	switch {
	case uri == "":
		return badRequest("push needs a uri")
	case !pack.PushURI(uri):
		return badRequest("uri " + uri + " is reserved by the protocol")
	case !utf8.Valid(body):
		// the request carries the body as a JSON string
		return badRequest("body is not UTF-8")
	}
	return nil
}

// encodeRequest returns the frame of request id (0: none) whose body is r
// as JSON (pack's hand-written encoder: no reflection on the hot path).
func encodeRequest(w wire, id int64, uri string, r *pack.PushRequest) ([]byte, error) {
	body, err := pack.AppendPushRequest(make([]byte, 0, 64+len(r.URI)+len(r.Body)), r)
	if err != nil {
		return nil, err
	}
	return pack.EncodeFrame(w.order, w.codec, &pack.Message{Seq: id, URI: uri, Body: body})
}

// parseCanonicalOutcome reads a /reply body in the exact form nodes write
// (pack.AppendOutcome: {"delivered":N,"stored":N,"offline":N[,"seq":N]})
// without reflection: the reply of every push is parsed, and encoding/json
// cost a tenth of a pipelined push's CPU. Any other form (whitespace, other
// key order, new keys) reports false and is left to encoding/json.
func parseCanonicalOutcome(b []byte) (Result, bool) {
	var r Result
	var n [4]int64
	keys := [4]string{`{"delivered":`, `,"stored":`, `,"offline":`, `,"seq":`}
	for i, k := range keys {
		if i == 3 && len(b) == 1 {
			break // seq is omitted when zero
		}
		if len(b) < len(k) || string(b[:len(k)]) != k {
			return r, false
		}
		b = b[len(k):]
		j := 0
		for j < len(b) && j < 19 && b[j] >= '0' && b[j] <= '9' {
			n[i] = n[i]*10 + int64(b[j]-'0')
			j++
		}
		if j == 0 || j == 19 {
			return r, false
		}
		b = b[j:]
	}
	if len(b) != 1 || b[0] != '}' {
		return r, false
	}
	return Result{Delivered: int(n[0]), Stored: int(n[1]), Offline: int(n[2]), Seq: n[3]}, true
}
