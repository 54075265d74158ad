package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plexpush/plex/plog"
)

// Config configures a Cluster. Every field but Conn has a working zero
// value; each comment says what zero means. Settings marked "on creation"
// apply when this node creates the stream or bucket; later nodes use what
// exists (change it with the nats CLI, e.g. `nats stream edit`).
type Config struct {
	// Conn is the node's NATS connection (required). The caller owns it and
	// closes it after the server has shut down. Connect with unlimited
	// reconnects (nats.MaxReconnects(-1)) and, to start while NATS is down,
	// nats.RetryOnFailedConnect(true): the node then serves, /readyz is
	// false and pushes that cannot be routed fail, until NATS is back.
	// Add ReconnectOnServerError() last: without it a server error such as
	// "maximum control line exceeded" closes the connection for good (New
	// logs a warning when it is missing).
	Conn *nats.Conn
	// Prefix names this plex cluster's subjects, stream and buckets
	// ([A-Za-z0-9_-], at most 32 bytes), so that several plex clusters can
	// share a NATS system. Zero: "plex".
	Prefix string
	// Replicas of the stream and buckets, on creation. Zero: min(3, the
	// number of NATS servers the connection knows), lowered when JetStream
	// refuses it (a single server cannot replicate).
	Replicas int
	// MaxPerUser bounds the stored pushes per user, on creation; when a
	// push would exceed it, the user's OLDEST stored push is dropped (the
	// app sees a gap in seq). Zero: 1000.
	MaxPerUser int
	// MaxDevicesPerUser bounds the device cursors kept per user (each
	// login of a new device id adds one; a login reads them all). A new
	// device beyond it evicts the one furthest behind; that device, when
	// it comes back, resumes from what its app sends (meta resume), like
	// a new device. Zero: 64.
	MaxDevicesPerUser int
	// MaxBytes bounds the stream of stored pushes, on creation; the oldest
	// pushes are dropped beyond it. Zero: no bound but the servers' limits.
	MaxBytes int64
	// CursorTTL is how long a user's ack cursors are kept after the last
	// ack of any of their devices, on creation. Keep it above the longest
	// push TTL. Zero: 30 days.
	CursorTTL time.Duration
	// Heartbeat is how often the node announces its address and load. A
	// node silent for 3 heartbeats is taken for dead. Zero: 2s.
	Heartbeat time.Duration
	// RequestTimeout bounds one JetStream request or presence query.
	// Zero: 3s.
	RequestTimeout time.Duration
	// AppendTimeout bounds Append (and the caller's context may end it
	// sooner): JetStream requests are retried, idempotently, within it,
	// which rides over a JetStream leader election. While the connection
	// itself is down, Append fails after 2s instead. Zero: 7s: well inside
	// a PlexClient's RequestTimeout (10s), so that a push the node could
	// not store is answered with a code (3005 or 3008) before the pusher
	// gives up and reports an unknown outcome (docs/operations.md,
	// Timeouts).
	AppendTimeout time.Duration
	// AnswerWait is the least time a push to a user whom the pushing node
	// does not hold waits for the holding node's answer before its Outcome
	// calls the user unconfirmed; above it the wait follows how fast nodes
	// answer (4x their recent answer time, at most 250 ms). Zero: 2 ms.
	AnswerWait time.Duration
	// Standalone says that no other plex node can ever share this NATS
	// system (plexd's embedded NATS server has no listener): the Bus then
	// routes nothing and subscribes to nothing per user, saving a NATS
	// subscription per connected user, while the Store and room
	// membership work as in a cluster. Zero: a cluster of any size.
	Standalone bool
	// Logger receives the cluster's logs. Nil: silent.
	Logger *slog.Logger
}

// Defaults applied by New.
const (
	DefaultPrefix         = "plex"
	DefaultMaxPerUser     = 1000
	DefaultCursorTTL      = 30 * 24 * time.Hour
	DefaultHeartbeat      = 2 * time.Second
	DefaultRequestTimeout = 3 * time.Second
	DefaultAppendTimeout  = 7 * time.Second
)

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.MaxPerUser <= 0 {
		c.MaxPerUser = DefaultMaxPerUser
	}
	if c.MaxDevicesPerUser <= 0 {
		c.MaxDevicesPerUser = 64
	}
	if c.CursorTTL <= 0 {
		c.CursorTTL = DefaultCursorTTL
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.AppendTimeout <= 0 {
		c.AppendTimeout = DefaultAppendTimeout
	}
	if c.AnswerWait <= 0 {
		c.AnswerWait = reachMin
	}
	return c
}

// Cluster is one plex node's membership in a plex cluster on NATS: its Bus
// (routing, presence, rooms, discovery) and its Store (persistent pushes
// on JetStream). Give both to server.Config:
//
//	c, err := cluster.New(cluster.Config{Conn: nc})
//	srv, err := server.New(server.Config{Bus: c.Bus(), Store: c.Store(), …})
//
// The server starts and closes the Bus; the caller closes the connection
// after the server. A Cluster serves one server.
type Cluster struct {
	cfg   Config
	nc    *nats.Conn
	js    jetstream.JetStream
	log   *slog.Logger
	names names
	bus   *Bus
	store *Store

	ready   atomic.Bool // stream and buckets are open
	setupMu sync.Mutex  // one setup at a time
	lastErr atomic.Pointer[error]
	jsErr   atomic.Pointer[error] // the last probe of the stream failed
	stream  jetstream.Stream
	roomsKV jetstream.KeyValue
	cursKV  jetstream.KeyValue
}

// New validates cfg and returns the Cluster. It does not wait for NATS:
// the stream and buckets are opened (created when missing) on first use.
func New(cfg Config) (*Cluster, error) {
	if cfg.Conn == nil {
		return nil, ErrNoConn
	}
	cfg = cfg.withDefaults()
	if !validPrefix(cfg.Prefix) {
		return nil, fmt.Errorf("cluster: Prefix %q: want 1 to 32 of [A-Za-z0-9_-]", cfg.Prefix)
	}
	js, err := jetstream.New(cfg.Conn, jetstream.WithDefaultTimeout(cfg.RequestTimeout))
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, nc: cfg.Conn, js: js, log: plog.OrDiscard(cfg.Logger), names: newNames(cfg.Prefix)}
	if !guarded(c.nc) {
		c.log.Warn("cluster: the NATS connection was made without cluster.ReconnectOnServerError(); " +
			"a server error such as \"maximum control line exceeded\" would close it for good")
	}
	c.bus = newBus(c)
	c.store = newStore(c)
	return c, nil
}

// Bus returns the node's server.Bus.
func (c *Cluster) Bus() *Bus { return c.bus }

// Store returns the node's server.Store on JetStream.
func (c *Cluster) Store() *Store { return c.store }

// Open opens the stream of stored pushes and the buckets now, creating
// them when missing. Calling it is optional (they are opened on first use);
// plexd calls it to fail fast on a broken store.
func (c *Cluster) Open(ctx context.Context) error { return c.open(ctx) }

// open opens (creating when missing) the stream and the buckets; once it
// succeeded it returns at once.
func (c *Cluster) open(ctx context.Context) error {
	if c.ready.Load() {
		return nil
	}
	c.setupMu.Lock()
	defer c.setupMu.Unlock()
	if c.ready.Load() {
		return nil
	}
	if !c.nc.IsConnected() {
		err := fmt.Errorf("%w: connection %s", ErrUnavailable, c.nc.Status())
		c.lastErr.Store(&err)
		return err
	}
	err := c.openLocked(ctx)
	if err == nil && c.cfg.Standalone {
		err = c.store.loadPending(ctx)
	}
	if err != nil {
		err = fmt.Errorf("%w: open JetStream stream and buckets: %w", ErrUnavailable, err)
		c.lastErr.Store(&err)
		return err
	}
	c.lastErr.Store(nil)
	c.ready.Store(true)
	return nil
}

func (c *Cluster) openLocked(ctx context.Context) error {
	var err error
	c.stream, err = c.js.Stream(ctx, c.names.stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		c.stream, err = c.createStream(ctx)
	}
	if err != nil {
		return err
	}
	if c.roomsKV, err = c.bucket(ctx, jetstream.KeyValueConfig{
		Bucket:      c.names.rooms,
		Description: "plex room membership: <room>.<uid>",
		History:     1,
		Storage:     jetstream.FileStorage,
	}); err != nil {
		return err
	}
	c.cursKV, err = c.bucket(ctx, jetstream.KeyValueConfig{
		Bucket:      c.names.cursors,
		Description: "plex ack cursors per user: {device: seq}",
		History:     1,
		TTL:         c.cfg.CursorTTL,
		Storage:     jetstream.FileStorage,
	})
	return err
}

// createStream creates the stream of stored pushes: one subject per user,
// bounded per user, per-message TTL, deduplication by message id for
// retried appends. Its first sequence is the creation time in
// microseconds: seqs are stream sequences, and a stream created again
// (data lost) still numbers above every seq an app may hold.
func (c *Cluster) createStream(ctx context.Context) (jetstream.Stream, error) {
	sc := jetstream.StreamConfig{
		Name:              c.names.stream,
		Description:       "plex persistent pushes, one subject per user",
		Subjects:          []string{c.names.msgs + "*"},
		Storage:           jetstream.FileStorage,
		MaxMsgsPerSubject: int64(c.cfg.MaxPerUser),
		Discard:           jetstream.DiscardOld,
		MaxBytes:          c.cfg.MaxBytes,
		AllowMsgTTL:       true,
		Duplicates:        2 * time.Minute,
		FirstSeq:          uint64(time.Now().UnixMicro()),
	}
	if sc.MaxBytes <= 0 {
		sc.MaxBytes = -1
	}
	return c.newStream(ctx, sc)
}

// newStream creates the stream sc with the replicas withReplicas picks, or
// opens it when another node created it first.
func (c *Cluster) newStream(ctx context.Context, sc jetstream.StreamConfig) (jetstream.Stream, error) {
	var s jetstream.Stream
	err := c.withReplicas(func(r int) error {
		sc.Replicas = r
		var err error
		s, err = c.js.CreateStream(ctx, sc)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			s, err = c.js.Stream(ctx, sc.Name) // another node was first
		}
		return err
	})
	if err == nil {
		c.log.Info("cluster: created stream", "stream", sc.Name, "replicas", sc.Replicas)
	}
	return s, err
}

func (c *Cluster) bucket(ctx context.Context, kc jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	kv, err := c.js.KeyValue(ctx, kc.Bucket)
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return kv, err
	}
	err = c.withReplicas(func(r int) error {
		kc.Replicas = r
		var err error
		kv, err = c.js.CreateKeyValue(ctx, kc)
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = c.js.KeyValue(ctx, kc.Bucket)
		}
		return err
	})
	return kv, err
}

// withReplicas calls create with the configured replica count, or with
// min(3, known servers) lowered while JetStream says it cannot place them.
func (c *Cluster) withReplicas(create func(r int) error) error {
	if c.cfg.Replicas > 0 {
		return create(c.cfg.Replicas)
	}
	r := min(3, max(1, len(c.nc.Servers())))
	for {
		err := create(r)
		if err == nil || r == 1 || !replicasRefused(err) {
			return err
		}
		r--
	}
}

// replicasRefused: JetStream cannot place this many replicas (a single
// server, or fewer servers up than replicas).
func replicasRefused(err error) bool {
	var ae *jetstream.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode {
	case 10074, // replicas > 1 not supported in non-clustered mode
		10023, // insufficient resources
		10005: // no suitable peers for placement
		return true
	}
	return false
}

// probe checks that the stream can store now, which the connection status
// alone does not show: it asks for the stream's state (a replicated stream
// without a leader cannot store) and then stores a probe message (a stream
// whose disk filled up answers its state but stores nothing). The probe
// message is on a subject no user has (probeSubject) and expires after a
// second.
func (c *Cluster) probe(ctx context.Context) {
	if !c.ready.Load() || !c.nc.IsConnected() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, min(c.cfg.RequestTimeout, c.cfg.Heartbeat))
	defer cancel()
	info, err := c.stream.Info(ctx)
	if err == nil && info.Cluster != nil && info.Cluster.Leader == "" {
		// A replicated stream answers its info without a leader (no
		// quorum), but nothing can be stored until it has one.
		err = errors.New("no stream leader (no quorum of JetStream servers)")
	}
	if err == nil {
		_, err = c.js.Publish(ctx, c.names.probe, nil, jetstream.WithMsgTTL(time.Second), jetstream.WithRetryAttempts(0))
		if err != nil {
			err = fmt.Errorf("%w: a probe message was not stored (disk full?): %w", ErrNotStoring, err)
		}
	}
	if err != nil {
		err = fmt.Errorf("%w: JetStream stream %s: %w", ErrUnavailable, c.names.stream, err)
		if c.jsErr.Swap(&err) == nil {
			c.log.Warn("cluster: JetStream cannot store pushes", "err", err)
		}
		return
	}
	if c.jsErr.Swap(nil) != nil {
		c.log.Info("cluster: JetStream stores pushes again")
	}
}

// connHealth returns why the node cannot reach NATS now, or nil.
func (c *Cluster) connHealth() error {
	if s := c.nc.Status(); s != nats.CONNECTED {
		if err := c.nc.LastError(); s == nats.CLOSED && err != nil {
			return fmt.Errorf("%w: connection CLOSED for good (%w); restart the node", ErrUnavailable, err)
		}
		return fmt.Errorf("%w: connection %s", ErrUnavailable, s)
	}
	return nil
}

// health returns why the node cannot store pushes now (NATS unreachable,
// the stream not open, no stream leader), or nil.
func (c *Cluster) health() error {
	if err := c.connHealth(); err != nil {
		return err
	}
	if p := c.jsErr.Load(); p != nil {
		return *p
	}
	if !c.ready.Load() {
		if p := c.lastErr.Load(); p != nil {
			return *p
		}
		return fmt.Errorf("%w: JetStream stream and buckets not open yet", ErrUnavailable)
	}
	return nil
}
