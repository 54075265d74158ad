package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
)

// State is where a Conn's connection is.
type State int32

const (
	// StateIdle: Connect has not been called yet. OnState never reports it.
	StateIdle State = iota
	// StateConnecting: an attempt is running (discovery, dial, TLS and the
	// auth handshake): the first one, or the next after a backoff wait.
	StateConnecting
	// StateOnline: authenticated; pushes flow.
	StateOnline
	// StateReconnecting: the connection was lost (EOF, a 3xxx code) or an
	// attempt failed; the Conn waits out the backoff before the next
	// StateConnecting. The error passed with it is a *RetryError (cause
	// and backoff delay).
	StateReconnecting
	// StateClosed: final. The error is nil after Close, or the terminal
	// error (refused credentials: ErrAuth; another 4xxx code).
	StateClosed
)

func (s State) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateConnecting:
		return "connecting"
	case StateOnline:
		return "online"
	case StateReconnecting:
		return "reconnecting"
	case StateClosed:
		return "closed"
	}
	return "state " + strconv.Itoa(int(s))
}

// ConnConfig configures a Conn. The zero value of every field but one of
// Addrs/DiscoveryURL is valid; each field says what zero means.
type ConnConfig struct {
	// Addrs are nodes' TCP addresses (host:port), tried round-robin: each
	// attempt after a failure or a lost connection takes the next one.
	Addrs []string
	// DiscoveryURL, used when Addrs is empty, is a node's HTTP API
	// ("http://host:port", or the full URL of GET /plex/v1/host): before
	// each attempt the Conn asks it which node to dial.
	DiscoveryURL string
	// Token is the app's credential (body of /auth/server), redacted in logs.
	Token plog.Secret
	// App names the app (tenant) to log in to (meta "app", protocol §9),
	// one the node serves beside its default app. Zero: the default app.
	App string
	// Device identifies this installation among the user's devices (meta
	// "device"). The node keeps one ack cursor per device, so each device
	// gets every persistent push. Zero: "" (all such connections of the
	// user share one cursor).
	Device string
	// LastSeq is the highest persistent seq the app already holds from an
	// earlier run (it saw it in OnMessage). Zero: none; the node then resumes
	// from what this device acked.
	LastSeq int64
	// NoAcks turns acks off: the Conn does not declare acks=1, so the node
	// counts a persistent push as delivered once written (the original
	// apps' contract) and does not replay it. Zero: acks on: persistent
	// pushes are acked after OnMessage returned and resumed after reconnects.
	NoAcks bool

	// ByteOrder of frame headers; it must match the node's. Zero: big-endian.
	ByteOrder pack.Order
	// Codec of the frames. Zero (AutoCodec): JSON.
	Codec pack.Codec
	// TLS, when set, wraps each connection in TLS (the node's Config.TLS).
	// An empty ServerName defaults to the host of the address dialled.
	// Nil: plain TCP.
	TLS *tls.Config
	// DialTimeout bounds one attempt: discovery, dial and auth. Zero: 5s.
	DialTimeout time.Duration
	// Backoff between attempts. Zero: see Backoff.
	Backoff Backoff

	// OnMessage receives every pushed message, and every /error or /reply
	// the node sends that answers none of JoinRoom, LeaveRoom or Message
	// (those go to their caller; an /error about an upstream message comes
	// here), in order, on the Conn's dispatcher goroutine.
	// Persistent pushes (meta persist=1) arrive once each, in seq order:
	// copies replayed after a reconnect are dropped. m is the callee's.
	// Nil: messages are dropped (and still acked).
	OnMessage func(m *pack.Message)
	// OnState receives state changes on the same goroutine, in order with
	// the messages. Nil: not reported.
	OnState func(s State, err error)
	// Logger receives connection lifecycle logs. Nil: silent.
	Logger *slog.Logger
}

// Conn is an app's connection to plex, kept alive for the app: it dials a
// node, authenticates, heartbeats, reconnects with backoff and resumes
// persistent pushes where it left off. Create it with Dial, or NewConn and
// Connect. Its methods are safe for concurrent use.
type Conn struct {
	cfg  ConnConfig
	log  *slog.Logger
	wire wire
	hc   *http.Client
	disc string
	disp *dispatcher
	ids  atomic.Int64

	// lastSeq: the highest persistent seq queued for OnMessage (dedup);
	// written by the reader only. delivered: the highest one OnMessage
	// returned from (acked, and the resume point); written by the
	// dispatcher only.
	lastSeq   atomic.Int64
	delivered atomic.Int64
	rewinding atomic.Bool // a rewind of delivered is queued: acks wait for it
	cur       atomic.Pointer[link]
	inCall    atomic.Bool // a callback is running
	ackKicked int64       // delivered seq the writer was last woken for (dispatcher only)

	mu         sync.Mutex
	background bool // SetBackground; applied to every link under mu
	state      State
	err        error         // terminal error, once Closed
	change     chan struct{} // closed and replaced on every state change
	started    bool

	stop      chan struct{} // closed by Close
	closeOnce sync.Once
	cancel    context.CancelFunc
	done      chan struct{} // closed when every goroutine has exited
}

// Dial creates a Conn and connects it: it returns once the Conn is online,
// or an error (and no Conn) when ctx ends or the node refuses the
// credentials first.
func Dial(ctx context.Context, cfg ConnConfig) (*Conn, error) {
	c, err := NewConn(cfg)
	if err != nil {
		return nil, err
	}
	if err := c.Connect(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// NewConn validates cfg and returns an idle Conn; Connect starts it.
func NewConn(cfg ConnConfig) (*Conn, error) {
	if len(cfg.Addrs) == 0 && cfg.DiscoveryURL == "" {
		return nil, errors.New("client: ConnConfig needs Addrs or DiscoveryURL")
	}
	if slices.Contains(cfg.Addrs, "") {
		return nil, errors.New("client: empty address in ConnConfig.Addrs")
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	cfg.Backoff = cfg.Backoff.withDefaults()
	c := &Conn{
		cfg:    cfg,
		log:    plog.OrDiscard(cfg.Logger),
		wire:   newWire(cfg.ByteOrder, cfg.Codec, cfg.TLS),
		hc:     newHTTPClient(cfg.DialTimeout),
		disp:   newDispatcher(),
		change: make(chan struct{}),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	if len(cfg.Addrs) == 0 {
		u, err := discoveryURL(cfg.DiscoveryURL)
		if err != nil {
			return nil, err
		}
		c.disc = u
	}
	c.lastSeq.Store(cfg.LastSeq)
	c.delivered.Store(cfg.LastSeq)
	return c, nil
}

// Connect starts the Conn (once) and waits until it is online. It returns
// ctx's error when ctx ends first (the Conn keeps trying in the background
// until Close), or the terminal error when the Conn closed (ErrClosed after
// Close).
func (c *Conn) Connect(ctx context.Context) error {
	c.start()
	for {
		ch := c.changed()
		switch s, err := c.status(); s {
		case StateOnline:
			return nil
		case StateClosed:
			return closedErr(err)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *Conn) start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return
	}
	c.started = true
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	var wg sync.WaitGroup
	wg.Go(func() { c.run(ctx) })
	wg.Go(func() { c.disp.run(c.handle) })
	go func() { wg.Wait(); close(c.done) }()
}

// State returns the current state.
func (c *Conn) State() State {
	s, _ := c.status()
	return s
}

// Err returns the terminal error once the Conn is closed by the node (nil
// otherwise, and after Close).
func (c *Conn) Err() error {
	_, err := c.status()
	return err
}

func (c *Conn) status() (State, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state, c.err
}

// closedErr is what calls on a closed Conn return: the terminal error, or
// ErrClosed after Close.
func closedErr(terminal error) error {
	if terminal == nil {
		return ErrClosed
	}
	return terminal
}

func (c *Conn) changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.change
}

// setState records a state change and queues its callback.
func (c *Conn) setState(s State, err error) {
	c.mu.Lock()
	c.state = s
	if s == StateClosed {
		c.err = err
	}
	close(c.change)
	c.change = make(chan struct{})
	c.mu.Unlock()
	c.disp.postState(s, err)
}

// Send writes an upstream message (uri must not be a protocol URI). It
// waits, within ctx, while the Conn is (re)connecting, and returns nil once
// the frame is written to the socket: like every upstream message it has
// no acknowledgement, so a connection lost right after may lose it.
func (c *Conn) Send(ctx context.Context, uri string, body []byte) error {
	if uri == "" || pack.Reserved(uri) {
		return badRequest("upstream uri " + strconv.Quote(uri) + " is empty or reserved")
	}
	frame, err := pack.EncodeFrame(c.wire.order, c.wire.codec, &pack.Message{URI: uri, Body: body})
	if err != nil {
		return err
	}
	_, err = c.do(ctx, newRequest(c.ids.Add(1), frame, true))
	return err
}

// do hands r to the current connection, waiting within ctx while the Conn
// is (re)connecting, and returns how r ended: written (r.onWrite), the
// node's /reply or /error, or an error. A request that provably was not
// written when its connection died goes out again on the next one; one
// that was written and got no answer ends with ErrOutcomeUnknown. It is
// the one send path of Send, JoinRoom, LeaveRoom and Message.
func (c *Conn) do(ctx context.Context, r *request) (reply, error) {
	if err := ctx.Err(); err != nil {
		return reply{}, notSent(err)
	}
	for {
		ch := c.changed()
		if s, err := c.status(); s == StateClosed {
			return reply{}, closedErr(err)
		}
		if l := c.cur.Load(); l != nil {
			ok, err := l.enqueue(r)
			if err != nil {
				return reply{}, badRequest(fmt.Sprintf("message of %d bytes is over the node's frame limit", len(r.frame)-pack.HeaderSize))
			}
			if ok {
				if rep, retry, err := r.await(ctx); !retry {
					return rep, err
				}
				continue
			}
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return reply{}, notSent(ctx.Err())
		}
	}
}

// roundTrip sends a request (uri, body, a request id in seq) through do and
// returns the node's /reply, or its /error as a *pack.CodeError (3008 also
// matching ErrOutcomeUnknown).
func (c *Conn) roundTrip(ctx context.Context, uri string, body []byte) (*pack.Message, error) {
	id := c.ids.Add(1)
	frame, err := pack.EncodeFrame(c.wire.order, c.wire.codec, &pack.Message{Seq: id, URI: uri, Body: body})
	if err != nil {
		return nil, err
	}
	rep, err := c.do(ctx, newRequest(id, frame, false))
	if err != nil {
		return nil, err
	}
	if rep.msg.URI == pack.URIError {
		return nil, requestError(rep.msg)
	}
	return rep.msg, nil
}

// SetBackground puts the connection in background mode (on) or back to
// the normal pace (off), for the current connection and every reconnect.
// In background mode the Conn heartbeats at the node's background interval
// (5 minutes by default instead of 30 s), so a phone's radio wakes far less
// often, and the node waits correspondingly longer before it declares the
// connection dead (docs/protocol.md §11.1). Against a node without
// background mode it changes nothing. Pushes arrive as usual either way.
func (c *Conn) SetBackground(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.background = on
	if l := c.cur.Load(); l != nil {
		l.setBackground(on)
	}
}

// Close closes the connection and stops reconnecting. Messages read but not
// yet handed to OnMessage are dropped, and an ack not yet written is not
// sent: the node replays those persistent pushes to the device's next
// connection (a Conn created with LastSeq drops the ones it had). OnState
// then gets StateClosed with a nil error. Close waits for every goroutine of the
// Conn, except when a callback is running (e.g. Close called from one):
// then it returns at once and Done reports the end.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		started := c.started
		c.started = true // a later Connect starts nothing
		if c.cancel != nil {
			c.cancel()
		}
		c.mu.Unlock()
		close(c.stop)
		if l := c.cur.Load(); l != nil {
			l.kill(ErrClosed)
		}
		if !started {
			c.setState(StateClosed, nil)
			close(c.done)
		}
	})
	if !c.inCall.Load() {
		<-c.done
	}
	return nil
}

// Done is closed when the Conn has stopped and all its goroutines exited.
func (c *Conn) Done() <-chan struct{} { return c.done }

func (c *Conn) stopped() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}

// run is the connection loop: connect, serve until the link dies, back off,
// again; until Close or a terminal error.
func (c *Conn) run(ctx context.Context) {
	err := c.loop(ctx)
	c.cur.Store(nil)
	c.setState(StateClosed, err)
	c.disp.close()
}

func (c *Conn) loop(ctx context.Context) error {
	c.setState(StateConnecting, nil)
	attempt := 0
	for next := 0; ; next++ {
		healthy, err := c.once(ctx, next)
		if c.stopped() {
			return nil
		}
		if terminal(err) {
			err = terminalError(err)
			c.log.Error("node refused the connection; not reconnecting", "err", err)
			return err
		}
		if healthy {
			attempt = 0
		}
		d := c.cfg.Backoff.delay(attempt)
		attempt++
		c.log.Info("connection lost; reconnecting", "err", err, "backoff", d)
		c.setState(StateReconnecting, &RetryError{Err: err, Delay: d})
		if !sleep(d, c.stop) {
			return nil
		}
		c.setState(StateConnecting, nil)
	}
}

// once makes attempt number n and serves the connection until it dies.
// healthy reports whether it was healthy enough to reset the backoff.
func (c *Conn) once(ctx context.Context, n int) (healthy bool, err error) {
	var addr string
	if c.disc != "" {
		if addr, err = discover(ctx, c.hc, c.disc); err != nil {
			return false, err
		}
	} else {
		addr = c.cfg.Addrs[n%len(c.cfg.Addrs)]
	}
	auth := c.authMessage()
	nc, r, info, err := handshake(ctx, addr, c.cfg.DialTimeout, c.wire, auth)
	if err != nil {
		return false, err
	}
	if sent, _ := strconv.ParseInt(auth.Get(pack.MetaResume), 10, 64); info.Resume != nil && *info.Resume < sent {
		// The node's store never issued the seqs this app holds (they came
		// from a store that no longer exists, §12): numbering restarts
		// below them, so dedup and acks restart from the node's point.
		c.log.Warn("node replays from below the resume point: its store does not know our seqs",
			"resume", sent, "from", *info.Resume)
		c.lastSeq.Store(*info.Resume) // no reader runs between links
		c.rewinding.Store(true)       // no ack of the old seqs until the dispatcher applied it
		c.disp.postRewind(*info.Resume)
	}
	l := newLink(nc, r, c.wire, info, &counters{})
	l.onFrame = func(m *pack.Message) error { return c.onFrame(l, m) }
	if !c.cfg.NoAcks {
		l.extra = c.ackAppender()
	}
	c.mu.Lock()
	c.cur.Store(l)
	l.setBackground(c.background)
	c.mu.Unlock()
	c.log.Info("online", "uid", info.UID, "node", info.Node, "conn", info.Conn, "remote", addr)
	c.setState(StateOnline, nil) // queued before any message of this connection
	up := time.Now()
	l.start()
	if !c.cfg.NoAcks {
		l.kick() // re-ack what was delivered, so the new session's cursor catches up
	}
	for !l.isDead() {
		select {
		case <-l.stop:
		case <-c.stop:
			l.kill(ErrClosed)
		}
	}
	c.cur.Store(nil)
	err = l.wait()
	return c.cfg.Backoff.healthy(l.received.Load(), time.Since(up)), err
}

// authMessage is /auth/server with this Conn's declarations.
func (c *Conn) authMessage() *pack.Message {
	m := &pack.Message{URI: pack.URIAuth, Body: []byte(c.cfg.Token.Reveal())}
	m.Set(pack.MetaVersion, pack.ProtocolVersion)
	if c.cfg.App != "" {
		m.Set(pack.MetaApp, c.cfg.App)
	}
	if c.cfg.Device != "" {
		m.Set(pack.MetaDevice, c.cfg.Device)
	}
	if !c.cfg.NoAcks {
		m.Set(pack.MetaAcks, "1")
		// Resume after what the app holds: what OnMessage returned from,
		// not what is still queued for it (Close drops that, and the node
		// takes resume as this device's cursor). Queued copies the node
		// sends again are dropped by seq.
		if held := c.delivered.Load(); held > 0 {
			m.Set(pack.MetaResume, strconv.FormatInt(held, 10))
		}
	}
	return m
}

// onFrame handles a frame from the node (reader goroutine): protocol
// frames here, everything else to the dispatcher after dedup.
func (c *Conn) onFrame(l *link, m *pack.Message) error {
	switch m.URI {
	case pack.URIDisconnect, pack.URIAuthFailed:
		return pack.ErrorOf(m)
	case pack.URIReply, pack.URIError:
		// The answer to a request of this link (JoinRoom, LeaveRoom,
		// Message) goes to its waiter, straight from the reader: it never
		// waits behind OnMessage. Others (an /error for an upstream
		// message, seq 0) are the app's.
		if m.Seq != 0 && l.complete(m.Seq, reply{msg: m}) {
			return nil
		}
	}
	seq := persistentSeq(m)
	if seq > 0 && seq <= c.lastSeq.Load() {
		return nil // a replayed copy of what the app has
	}
	if !c.disp.postMessage(m, l.stop) {
		// The link is dying and m was not queued, so lastSeq stays below
		// it and m is not dropped as a copy when the next connection
		// replays it. The reader must stop here: queueing a later frame
		// of this link would move lastSeq past m.
		return errNotQueued
	}
	if seq > 0 {
		c.lastSeq.Store(seq)
	}
	return nil
}

// persistentSeq returns a persistent push's seq, or 0.
func persistentSeq(m *pack.Message) int64 {
	if m.Seq > 0 && m.Get(pack.MetaPersist) == "1" {
		return m.Seq
	}
	return 0
}

// handle runs one callback (dispatcher goroutine). After the last event
// of each batch the dispatcher drained, the writer is woken to ack what was
// delivered: one cumulative /ack per batch, not one per message.
func (c *Conn) handle(ev event, last bool) {
	switch {
	case ev.rewind:
		c.delivered.Store(ev.to)
		c.ackKicked = ev.to
		c.rewinding.Store(false)
	case ev.msg == nil:
		if f := c.cfg.OnState; f != nil {
			c.call(func() { f(ev.state, ev.err) })
		}
	case c.stopped():
		// Close drops what was not delivered yet (and not acked)
	default:
		if f := c.cfg.OnMessage; f != nil {
			c.call(func() { f(ev.msg) })
		}
		if seq := persistentSeq(ev.msg); seq > 0 {
			c.delivered.Store(seq)
		}
	}
	if last && !c.cfg.NoAcks {
		if d := c.delivered.Load(); d > c.ackKicked {
			c.ackKicked = d
			if l := c.cur.Load(); l != nil {
				l.kick()
			}
		}
	}
}

func (c *Conn) call(f func()) {
	c.inCall.Store(true)
	defer c.inCall.Store(false)
	f()
}

// ackAppender returns the writer hook of one link that appends a
// cumulative /ack whenever more was delivered than this link acked.
func (c *Conn) ackAppender() func(dst []byte) ([]byte, int) {
	var acked int64
	return func(dst []byte) ([]byte, int) {
		if c.rewinding.Load() {
			return dst, 0 // delivered still holds seqs of a store the node does not know
		}
		d := c.delivered.Load()
		if d <= acked {
			return dst, 0
		}
		out, err := pack.AppendFrame(dst, c.wire.order, c.wire.codec, &pack.Message{Seq: d, URI: pack.URIAck})
		if err != nil {
			return dst, 0
		}
		acked = d
		return out, 1
	}
}
