package server

import (
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plexpush/plex/pack"
)

// Config configures a Server. The zero value is valid: it serves on
// 127.0.0.1:9578 with defaults below, refuses every app (no Authenticator)
// and every push client (no InnerSecret) until those are set.
type Config struct {
	// Addr is the TCP address ListenAndServe listens on for apps and push
	// clients. Zero: "127.0.0.1:9578" (loopback: a node is never exposed by accident).
	Addr string
	// InnerAddr, when set, is a separate listener for push clients only;
	// /inner/auth/server is then refused on Addr. Zero: push clients use Addr.
	InnerAddr string
	// HTTPAddr is where ListenAndServe serves the HTTP API (Handler).
	// Zero: no HTTP listener (the Handler can still be mounted by the embedder).
	HTTPAddr string
	// HTTPRoutes are served beside the HTTP API, keyed by http.ServeMux
	// pattern (e.g. "GET /web/"): plexd mounts the operator console and
	// the browser client here (package web). A pattern that clashes with
	// the API's fails New.
	HTTPRoutes map[string]http.Handler
	// AdvertiseAddr is the host:port apps are told to dial (GET /plex/v1/host).
	// Zero: the address Addr's listener is bound to.
	AdvertiseAddr string
	// NodeID names this node in logs, metrics, /auth/success and the cluster.
	// Zero: a random id.
	NodeID string

	// TLS, when set, makes Addr a TLS listener (crypto/tls). TLS connections
	// use a goroutine each (see package doc).
	TLS *tls.Config

	// DisableWebSocket removes GET /plex/v1/ws from Handler. Zero: web apps
	// connect there over WebSocket, one plex message per WebSocket message
	// (docs/web.md); the connections ride the same event loop as TCP.
	DisableWebSocket bool
	// WebSocketOrigins are the browser origins allowed to open a WebSocket:
	// a full origin ("https://app.example.com") or a host[:port] pattern
	// matched with path.Match ("*.example.com", "localhost:*"); "*" allows
	// every origin. Requests without an Origin header (not from a browser)
	// are allowed. Zero: same origin only (the Origin's host:port equals
	// the request's Host), so pages served by the node itself may connect,
	// and only where Host names the node: an IP address, localhost, or the
	// host of AdvertiseAddr (a DNS-rebinding page's Host is its own name:
	// refused). A node reached by another name lists it here.
	WebSocketOrigins []string

	// Authenticator checks app tokens. Nil: every app is refused (4001).
	Authenticator Authenticator
	// AllowOpenAuth lets an open authenticator (OpenAuthenticator, such as
	// auth.None: any token is the uid, no credential) take app logins on
	// an address that is not loopback-only. Zero: New, Serve, ServeHTTP
	// and SetApps refuse that with ErrOpenAuth, as plexd refuses
	// -auth none without -force (which sets this field).
	AllowOpenAuth bool
	// InnerSecret is the push clients' password (compared in constant time).
	// Zero: inner auth is disabled and every /inner/auth/server is refused.
	InnerSecret string

	// AuthTimeout bounds the time from accept to a successful auth.
	// Zero: 10s. Connections that never speak are closed with 3003.
	AuthTimeout time.Duration
	// HeartbeatInterval is announced to clients: send a frame at least this
	// often. Zero: 30s.
	HeartbeatInterval time.Duration
	// HeartbeatTimeout closes a connection that sent nothing for this long
	// (3001), which also catches half-open sockets. Zero: 2.5 × HeartbeatInterval.
	HeartbeatTimeout time.Duration
	// BackgroundHeartbeatInterval is announced to apps for background mode
	// (docs/protocol.md §11.1): a mobile app in background asks to heartbeat
	// this rarely, saving radio wake-ups and battery. Zero: 5 minutes;
	// negative: background mode is off (the node answers the request
	// without switching, and the app keeps heartbeat_ms).
	BackgroundHeartbeatInterval time.Duration
	// BackgroundHeartbeatTimeout closes a connection in background mode that
	// sent nothing for this long. Zero: 2.5 × BackgroundHeartbeatInterval.
	BackgroundHeartbeatTimeout time.Duration

	// ByteOrder of frame headers. Zero: big-endian (the original).
	ByteOrder pack.Order
	// Codec pins the codec; zero (pack.AutoCodec) detects it per connection
	// from the first frame.
	Codec pack.Codec
	// MaxFrame bounds a frame body after auth. Zero: 1 MiB.
	MaxFrame int
	// AuthMaxFrame bounds a frame body before auth. Zero: 8 KiB.
	AuthMaxFrame int

	// MaxConnections refuses connections over this many (3004), counted.
	// Connections of InnerAddr do not count: they have their own bound,
	// MaxInnerConnections, so that a flood of app (or never-authenticated)
	// connections cannot lock push clients out. Zero: no limit beyond the
	// process's file limit.
	MaxConnections int
	// Version names what the node runs, reported in Stats and GET
	// /plex/v1/stats (e.g. a release and VCS revision). Optional.
	Version string
	// MaxInnerConnections bounds the connections of InnerAddr (3004 over
	// it). Zero: 1024 (push clients hold one connection per node each).
	MaxInnerConnections int
	// MaxPreAuthPerAddress bounds the connections one address (IPv6: its
	// /64) holds on the app listeners (TCP, TLS, WebSocket) before they
	// authenticate; more are refused at accept with 3004. A connection
	// counts until it authenticates or closes (at most AuthTimeout), so
	// many apps behind one NAT logging in at once stay far below it.
	// Zero: 256; negative: no bound (e.g. behind a proxy that hides the
	// apps' addresses).
	MaxPreAuthPerAddress int
	// WriteBudgetBytes bounds the output queued for all connections
	// together (each one's is bounded by WriteQueueBytes): past it, the
	// connections with the most output queued, the slowest consumers,
	// are closed (3002) until the total is under 90% of it. Counted in
	// plex_write_budget_drops_total. Zero: 256 MiB; negative: off.
	WriteBudgetBytes int64
	// WriteQueueBytes bounds the bytes waiting to be written to one
	// connection; a peer that lets more pile up is a slow consumer and is
	// closed (3002). Zero: 4 MiB.
	WriteQueueBytes int
	// WriteTimeout closes a connection whose peer does not take pending
	// output for this long: on Linux by the kernel (TCP_USER_TIMEOUT) on
	// plain TCP (elsewhere plain TCP has no write timeout: the write queue
	// bound, WriteQueueBytes, and the heartbeat timeout end a peer that
	// stopped reading), by the writer's deadline on TLS. Zero: 15s.
	WriteTimeout time.Duration
	// DeviceDuplicates keeps every login of the same uid and device id
	// (meta "device"). Zero (the protocol's rule, §9): a new login replaces
	// the older connection of that device on this node, which gets
	// /disconnect 4002, so a phone that reconnects while its old half-open
	// socket lingers does not get every push twice. Logins without a
	// device id are never replaced. In a cluster, an older connection on
	// another node is not replaced: it ends at its heartbeat timeout.
	DeviceDuplicates bool

	// Store keeps persistent pushes. Nil: an in-memory store (lost on restart;
	// see MemoryStoreConfig for its bounds).
	Store Store
	// Bus connects nodes of a cluster. Nil: this node alone.
	Bus Bus
	// PersistTTL is how long a persistent push waits for acks when the push
	// does not say. Zero: 72h.
	PersistTTL time.Duration
	// MaxPersistInFlight bounds the persistent pushes a node has in flight
	// to a Store that does I/O (appended, not yet acknowledged); a pusher
	// beyond it waits. Zero: DefaultMaxInFlight.
	MaxPersistInFlight int

	// Filter, when set, is asked for every accepted connection; false closes
	// it at once (counted as refused).
	Filter func(remote net.Addr) bool
	// OnOnline is called once when a user goes from no connection to one on
	// this node; OnOffline once when their last connection on this node
	// closes. Called on the node's one hooks goroutine (with
	// OnUndelivered), in order: a slow hook delays the later ones, never a
	// push.
	OnOnline  func(uid string)
	OnOffline func(uid string)
	// OnUpstream receives app messages that are not protocol messages.
	// Called on the connection's read path: it must not block (hand long work
	// to a goroutine). Nil: upstream messages are dropped (counted).
	OnUpstream func(s *Session, m *pack.Message)
	// RoomAuthorizer decides whether an app may join or leave a room itself
	// (/room/join, /room/leave). Nil: apps may not; rooms are server-managed.
	RoomAuthorizer func(s *Session, room string, join bool) bool
	// MessagePolicy decides whether user from may message user to in the
	// default app (/message). Nil: user-to-user messaging is off (4003).
	MessagePolicy func(from, to string) bool
	// MessageRate and MessageBurst limit each user's /message (per
	// second, across their connections on this node); over it the
	// sender gets /error 4029. Every /message is stored for its TTL
	// whether or not its recipient exists, so this bounds what one user
	// can make the node store. Zero: 5/s with a burst of 20; a negative
	// rate: unlimited.
	MessageRate  float64
	MessageBurst int
	// MaxMessageBytes bounds a /message body (4004 "message too large"
	// over it). Zero: 64 KiB (and never above MaxFrame).
	MaxMessageBytes int
	// RoomMessagePolicy decides whether the app connection s may send a
	// /message to a room (body {"room",...}); member says whether its user
	// is a member of the room. Asked only when the app's MessagePolicy is
	// set (messaging is on). Nil: members may, others may not (4003). Called
	// on the read path: it must not block.
	RoomMessagePolicy func(s *Session, room string, member bool) bool
	// MaxRoomMessageMembers bounds the members a room /message goes to:
	// each member gets its own stored copy, so this is how far one
	// /message can multiply (4003 "room too large" over it). Zero:
	// DefaultMaxRoomMessageMembers; negative: room messages are off (4003).
	MaxRoomMessageMembers int
	// Apps are products served beside the default one (see App). SetApps
	// replaces them at run time.
	Apps []App
	// PushRate and PushBurst limit the default app's pushes per second
	// (4029 over it). Zero: unlimited.
	PushRate  float64
	PushBurst int
	// StoreRate and StoreBurst limit the bytes the default app's
	// persistent pushes and /messages store per second (App.StoreRate).
	// Zero: unlimited.
	StoreRate  float64
	StoreBurst int
	// ConnFrameRate and ConnByteRate limit what one connection may send
	// (frames/s and bytes/s, with a burst of one second's worth). A frame
	// over the limit is answered with /error 4029 and not processed; the
	// connection stays. Zero: unlimited.
	ConnFrameRate float64
	ConnByteRate  float64
	// SecretFailBurst and SecretFailRate throttle wrong secrets (push
	// clients' /inner/auth/server, the HTTP API's bearer) per remote
	// address (IPv6: per /64): an address may fail SecretFailBurst times,
	// then SecretFailRate times per second; beyond that every attempt
	// from it is refused with 4029 (HTTP 429) unchecked, the right secret
	// included. Other addresses are not slowed. Zero: 10 and 1/s;
	// a negative burst turns it off (e.g. behind a proxy that hides the
	// pushers' addresses).
	SecretFailBurst int
	SecretFailRate  float64
	// MaxConcurrentLogins bounds the logins that authenticate at once off
	// the read path (an authenticator doing I/O such as a webhook, or the
	// JetStream store's replay); MaxPendingLogins bounds those running or
	// waiting: a login beyond it gets /auth/failed 3005 (retry later) at
	// once. Zero: 256 and 16 × MaxConcurrentLogins.
	MaxConcurrentLogins int
	MaxPendingLogins    int

	// OnUndelivered is called when a push to a user found no connection
	// anywhere it could see (e.g. to send a vendor push through APNs/FCM).
	// persisted says whether the message waits in the Store.
	OnUndelivered func(uid string, m *pack.Message, persisted bool)
	// OnUnacked is called, once per push across a cluster, when a
	// persistent push with an ack timeout (AckWithin, App.AckTimeout,
	// AckTimeout) was not acked by any device of the user (by the target
	// device, for a device push) within it: the app holds a connection
	// but did not process the push (e.g. its OS froze it). Wire it to the
	// same vendor push as OnUndelivered; a push that found the user
	// offline fired OnUndelivered and does not fire this. Nil: ack
	// timeouts are not tracked.
	OnUnacked func(uid string, m *pack.Message)
	// AckTimeout is the default app's App.AckTimeout. Zero: none.
	AckTimeout time.Duration
	// MaxAckDeadlines bounds the ack deadlines a node keeps at once (one
	// small entry per persistent push waiting for its ack); a push beyond
	// it is stored and answered without one, counted in
	// plex_fallbacks_total{reason="untracked"}. Zero: MaxAckDeadlines.
	MaxAckDeadlines int

	// Logger receives the node's logs. Nil: silent.
	Logger *slog.Logger
	// Registerer receives the node's Prometheus metrics. Nil: a registry of
	// the server's own, served at /metrics.
	Registerer prometheus.Registerer
	// Gatherer serves /metrics when Registerer is set. Nil: prometheus.DefaultGatherer
	// if Registerer is prometheus.DefaultRegisterer, else the server's own registry.
	Gatherer prometheus.Gatherer

	// Pollers is the number of event-loop goroutines. Zero: GOMAXPROCS.
	Pollers int
}

// Defaults applied by New.
const (
	DefaultAddr              = "127.0.0.1:9578"
	DefaultAuthTimeout       = 10 * time.Second
	DefaultHeartbeatInterval = 30 * time.Second
	DefaultWriteQueueBytes   = 4 << 20
	DefaultWriteTimeout      = 15 * time.Second

	DefaultBackgroundHeartbeatInterval = 5 * time.Minute
	DefaultPersistTTL                  = 72 * time.Hour
)

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.AuthTimeout <= 0 {
		c.AuthTimeout = DefaultAuthTimeout
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.HeartbeatTimeout <= 0 {
		c.HeartbeatTimeout = c.HeartbeatInterval * 5 / 2
	}
	if c.BackgroundHeartbeatInterval == 0 {
		c.BackgroundHeartbeatInterval = DefaultBackgroundHeartbeatInterval
	}
	if c.BackgroundHeartbeatInterval < 0 {
		c.BackgroundHeartbeatInterval, c.BackgroundHeartbeatTimeout = 0, 0
	} else if c.BackgroundHeartbeatTimeout <= 0 {
		c.BackgroundHeartbeatTimeout = c.BackgroundHeartbeatInterval * 5 / 2
	}
	if c.MaxFrame <= 0 {
		c.MaxFrame = pack.DefaultLimit
	}
	if c.AuthMaxFrame <= 0 {
		c.AuthMaxFrame = pack.DefaultAuthLimit
	}
	if c.WriteQueueBytes <= 0 {
		c.WriteQueueBytes = DefaultWriteQueueBytes
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.SecretFailBurst == 0 {
		c.SecretFailBurst = 10
	}
	if c.SecretFailRate <= 0 {
		c.SecretFailRate = 1
	}
	if c.MessageRate == 0 {
		c.MessageRate = 5
	}
	if c.MessageBurst <= 0 {
		c.MessageBurst = 20
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 64 << 10
	}
	if c.MaxRoomMessageMembers == 0 {
		c.MaxRoomMessageMembers = DefaultMaxRoomMessageMembers
	}
	if c.WriteBudgetBytes == 0 {
		c.WriteBudgetBytes = 256 << 20
	}
	if c.MaxInnerConnections <= 0 {
		c.MaxInnerConnections = 1024
	}
	if c.MaxPreAuthPerAddress == 0 {
		c.MaxPreAuthPerAddress = 256
	}
	if c.MaxConcurrentLogins <= 0 {
		c.MaxConcurrentLogins = 256
	}
	if c.MaxPendingLogins <= 0 {
		c.MaxPendingLogins = 16 * c.MaxConcurrentLogins
	}
	if c.MaxPersistInFlight <= 0 {
		c.MaxPersistInFlight = DefaultMaxInFlight
	}
	if c.MaxAckDeadlines <= 0 {
		c.MaxAckDeadlines = MaxAckDeadlines
	}
	if c.PersistTTL <= 0 {
		c.PersistTTL = DefaultPersistTTL
	}
	if c.Pollers <= 0 {
		c.Pollers = runtime.GOMAXPROCS(0)
	}
	return c
}
