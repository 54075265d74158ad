package plexmobile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/plexpush/plex/client"
)

// Client is an app's connection to plex. Create it with NewClient; see the
// package documentation for its lifecycle and threads. Its methods are safe
// for concurrent use.
type Client struct {
	// A Client runs one client.Conn at a time (a session): the first starts
	// on Connect, EnterBackground may end it (BackgroundDisconnect) and
	// EnterForeground start the next, which resumes after LastSeq. Under
	// BackgroundSlowHeartbeat the session stays and is switched to
	// background mode and back (client.Conn.SetBackground). Every
	// Listener call goes through the Client's own dispatcher goroutine
	// (run), so the order holds across sessions and the SDK's own events
	// (StateSuspended, StateClosed) take their place in it.
	set       settings
	log       *slog.Logger
	logs      *sinkHandler
	listener  atomic.Pointer[listenerBox]
	delivered atomic.Int64 // the last persistent seq whose OnMessage returned
	inCall    atomic.Bool  // the dispatcher is running a Listener method

	mu         sync.Mutex
	q          []*event      // events for the dispatcher, in order
	wake       chan struct{} // signals the dispatcher (capacity 1)
	final      bool          // the last event (StateClosed) is queued: nothing after it
	state      int64         // the last state queued
	started    bool          // Connect was called: the dispatcher runs
	closed     bool          // Close was called, or the node closed terminally
	err        error         // why the Client is closed
	background bool          // between EnterBackground and EnterForeground
	cur        *session      // the session that may deliver events; nil between sessions
	sessions   []*session    // every session started, for Close to wait for
	changed    chan struct{} // closed and replaced when cur or closed changes (Send waits on it)
	dispDone   chan struct{} // closed when the dispatcher has exited
}

// listenerBox holds an interface value behind an atomic pointer.
type listenerBox struct{ l Listener }

// session is one client.Conn and what the Client knows of it. Retiring a
// session (Close, EnterBackground, a foreground reconnect) happens before
// its Conn is closed: from then on nothing it reports reaches the Listener.
type session struct {
	conn    *client.Conn
	retired chan struct{} // closed on retirement (under Client.mu)
	backoff bool          // its last state was Reconnecting (Client.mu)
}

func (s *session) isRetired() bool {
	select {
	case <-s.retired:
		return true
	default:
		return false
	}
}

// NewClient validates cfg and returns an idle Client (no I/O yet). cfg is
// copied.
func NewClient(cfg *Config) (c *Client, err error) {
	defer guard(&err)
	set, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	c = &Client{
		set:      set,
		logs:     newSinkHandler(),
		wake:     make(chan struct{}, 1),
		changed:  make(chan struct{}),
		dispDone: make(chan struct{}),
	}
	c.log = slog.New(c.logs)
	c.delivered.Store(cfg.LastSeq)
	return c, nil
}

// SetListener sets the Listener that receives events from now on; nil
// removes it (events are then dropped; pushes are still acknowledged).
// Set it before Connect to see every event.
func (c *Client) SetListener(l Listener) (err error) {
	defer guard(&err)
	if l == nil {
		c.listener.Store(nil)
	} else {
		c.listener.Store(&listenerBox{l})
	}
	return nil
}

// SetLogger sets where the SDK's log lines go from now on; nil (the
// default) discards them.
func (c *Client) SetLogger(l Logger) (err error) {
	defer guard(&err)
	c.logs.set(l)
	return nil
}

// Connect starts connecting and returns at once; OnState reports progress
// (StateConnecting, then StateOnline). It does nothing when already
// called, and starts nothing while the Client is suspended in background:
// EnterForeground does. It fails once the Client is closed.
func (c *Client) Connect() (err error) {
	defer guard(&err)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.closedErr()
	}
	if c.started {
		return nil
	}
	c.started = true
	go c.run()
	if c.suspendedLocked() {
		c.post(&event{state: StateSuspended})
		return nil
	}
	c.post(&event{start: true})
	return nil
}

// Send writes an upstream message to the node (uri must not be one of the
// protocol's reserved URIs, e.g. /auth/…, /inner/…, /heartbeat). It blocks
// while the Client is (re)connecting, up to Config.SendTimeoutMs, and
// returns once the frame is written to the socket. Upstream messages have
// no acknowledgement: one written just before the connection is lost may
// be lost. Do not call it on the UI thread.
func (c *Client) Send(uri string, body []byte) (err error) {
	defer guard(&err)
	ctx, cancel := context.WithTimeout(context.Background(), c.set.sendTimeout)
	defer cancel()
	return c.onSession(ctx, func(conn *client.Conn) error {
		if err := conn.Send(ctx, uri, body); err != nil {
			return fmt.Errorf("%w: %w", errSendFailed, err)
		}
		return nil
	})
}

// onSession runs f with the current session's Conn (Send, Message). While
// the Client is between two sessions it waits for the next, within ctx.
// When f fails with client.ErrClosed because its session was retired
// meanwhile (EnterBackground, a foreground reconnect), f was not executed
// (client.ErrOutcomeUnknown says otherwise): it runs again with the next
// session, or the checks say why there is none.
func (c *Client) onSession(ctx context.Context, f func(*client.Conn) error) error {
	for {
		var err error
		c.mu.Lock()
		s, ch := c.cur, c.changed
		switch {
		case c.closed:
			err = c.closedErr()
		case !c.started:
			err = fmt.Errorf("%w: call Connect first", errNotConnected)
		case c.suspendedLocked():
			err = fmt.Errorf("%w: suspended in background", errNotConnected)
		}
		c.mu.Unlock()
		if err != nil {
			return err
		}
		if s == nil { // the next session is about to start
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return fmt.Errorf("%w: %w", errSendFailed, ctx.Err())
			}
		}
		err = f(s.conn)
		if errors.Is(err, client.ErrClosed) && !errors.Is(err, client.ErrOutcomeUnknown) && s.isRetired() {
			continue // retired meanwhile: the checks above say what now
		}
		return err
	}
}

// EnterBackground tells the SDK the app went to background. With
// BackgroundDisconnect it closes the connection (StateSuspended) until
// EnterForeground; with BackgroundSlowHeartbeat it keeps the connection
// and heartbeats at the node's background pace; with BackgroundKeep it
// changes nothing.
func (c *Client) EnterBackground() (err error) {
	defer guard(&err)
	c.mu.Lock()
	if c.closed || c.background {
		c.mu.Unlock()
		return nil
	}
	c.background = true
	if c.slowLocked() && c.cur != nil {
		// Under c.mu, so that the Conn sees EnterBackground and
		// EnterForeground in the order the app called them. SetBackground
		// only takes the Conn's own short lock, which is never held
		// while the Conn calls back into the Client (onConnState).
		c.cur.conn.SetBackground(true)
	}
	if !c.suspendedLocked() || !c.started {
		c.mu.Unlock()
		return nil
	}
	s := c.retireLocked()
	c.post(&event{state: StateSuspended})
	c.mu.Unlock()
	if s != nil {
		s.conn.Close()
	}
	return nil
}

// EnterForeground tells the SDK the app is in the foreground again: a
// suspended Client reconnects now, one in background mode
// (BackgroundSlowHeartbeat) returns to the normal heartbeat pace, and one
// waiting out a reconnect backoff dials again at once instead of waiting
// for the rest of it.
func (c *Client) EnterForeground() (err error) {
	defer guard(&err)
	c.mu.Lock()
	wasSuspended, wasSlow := c.suspendedLocked(), c.slowLocked()
	c.background = false
	if c.closed || !c.started {
		c.mu.Unlock()
		return nil
	}
	if wasSlow && c.cur != nil { // under c.mu: see EnterBackground
		c.cur.conn.SetBackground(false)
	}
	var old *session
	switch {
	case c.cur != nil && c.cur.backoff:
		old = c.retireLocked()
		c.post(&event{start: true})
	case c.cur == nil && wasSuspended:
		c.post(&event{start: true})
	}
	c.mu.Unlock()
	if old != nil {
		old.conn.Close()
	}
	return nil
}

// Close disconnects for good: OnState(StateClosed, 0, "", 0) is the last
// event (unless the Client already ended with StateClosed, e.g. 4001 when
// the node refused the token, or Connect was never called: then there is
// no event at all).
// Messages not yet handed to OnMessage are dropped and not acknowledged:
// the node delivers them to this device's next connection. Close waits
// for every SDK goroutine to exit, except when a Listener callback is
// running (e.g. Close called from one): it then returns at once. Calling
// it again does nothing.
func (c *Client) Close() (err error) {
	defer guard(&err)
	c.mu.Lock()
	var s *session
	if !c.closed {
		c.closed, c.err = true, errClosed
		s = c.retireLocked()
		c.post(&event{state: StateClosed, final: true})
		if !c.started { // no dispatcher to deliver it
			c.q = nil
			close(c.dispDone)
		}
	}
	sessions := c.sessions
	c.sessions = nil
	c.mu.Unlock()
	if s != nil {
		s.conn.Close()
	}
	for _, s := range sessions {
		s.conn.Close()
		<-s.conn.Done()
	}
	if !c.inCall.Load() {
		<-c.dispDone
	}
	return nil
}

// State returns the last state reported (or about to be reported) to
// OnState: one of the State constants.
func (c *Client) State() (st int64) {
	defer func() {
		if recover() != nil {
			st = StateIdle
		}
	}()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// LastSeq returns the highest persistent seq whose OnMessage returned (or
// Config.LastSeq). Persist it and pass it as Config.LastSeq after a restart
// of the app process, so pushes the app already has never come again. It
// goes down, at the next push, when a node's store never issued the seqs
// the app holds and numbers below them (docs/protocol.md §12).
func (c *Client) LastSeq() (seq int64) {
	defer func() {
		if recover() != nil {
			seq = 0
		}
	}()
	return c.delivered.Load()
}

// suspendedLocked reports whether the policy keeps the Client disconnected
// right now. c.mu held.
func (c *Client) suspendedLocked() bool {
	return c.background && c.set.background == BackgroundDisconnect
}

// slowLocked reports whether the policy wants the connection in background
// mode right now (every session started meanwhile asks for it too). c.mu
// held.
func (c *Client) slowLocked() bool {
	return c.background && c.set.background == BackgroundSlowHeartbeat
}

// retireLocked retires the current session, if any, and returns it; the
// caller closes its Conn after unlocking (Close may wait for the Conn's
// goroutines, which take c.mu). c.mu held.
func (c *Client) retireLocked() *session {
	s := c.cur
	if s == nil {
		return nil
	}
	close(s.retired)
	c.cur = nil
	c.notifyLocked()
	return s
}

func (c *Client) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *Client) closedErr() error {
	if c.err != nil {
		return c.err
	}
	return errClosed
}
