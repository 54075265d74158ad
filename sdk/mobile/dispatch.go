package plexmobile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
)

// event is one item for the dispatcher: a message, a state change, or the
// order to start a session.
type event struct {
	start bool // start the next session (no Listener call)

	// a message (sess != nil)
	sess    *session
	uri     string
	body    []byte
	seq     int64
	meta    map[string]string
	persist bool
	done    chan struct{} // closed once the message was handled or skipped

	// a state change (sess == nil, !start)
	state, code int64
	reason      string
	delayMs     int64 // with StateReconnecting: the backoff before the next attempt
	final       bool  // the last event: the dispatcher exits after it
}

// post queues ev for the dispatcher; false when nothing may follow any more
// (a final event is queued). c.mu held.
func (c *Client) post(ev *event) bool {
	if c.final {
		return false
	}
	if ev.sess == nil && !ev.start {
		c.state = ev.state
	}
	c.final = ev.final
	c.q = append(c.q, ev)
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return true
}

// run is the dispatcher: it makes every Listener call of the Client, in
// order, and starts sessions between them. It exits after the final event.
func (c *Client) run() {
	defer close(c.dispDone)
	for {
		c.mu.Lock()
		for len(c.q) == 0 {
			c.mu.Unlock()
			<-c.wake
			c.mu.Lock()
		}
		ev := c.q[0]
		c.q[0] = nil
		c.q = c.q[1:]
		c.mu.Unlock()
		switch {
		case ev.start:
			c.startSession()
		case ev.sess != nil:
			c.deliver(ev)
		default:
			c.call(func(l Listener) error { return l.OnState(ev.state, ev.code, ev.reason, ev.delayMs) })
			if ev.final {
				return
			}
		}
	}
}

// deliver hands a message to OnMessage unless its session was retired
// first (Close, background): then it is dropped and, since its Conn dies
// without acking it, the node delivers it to the next connection.
func (c *Client) deliver(ev *event) {
	defer close(ev.done)
	if ev.sess.isRetired() {
		return
	}
	c.call(func(l Listener) error { return l.OnMessage(ev.uri, ev.body, ev.seq, newMeta(ev.meta)) })
	if ev.persist {
		// Only the dispatcher writes it. Not a max: the Conn delivers a
		// seq at or below the last one only after a node answered a resume
		// point below it (its store never issued these seqs, protocol §12),
		// and then LastSeq must go down with it, or the next session and
		// the app's next run would resume above the node's numbering. The
		// Conn does not report the rewind itself, so LastSeq follows at the
		// first push after it.
		c.delivered.Store(ev.seq)
	}
}

// call runs one Listener method. A panic or an error (a Java exception) is
// logged: the SDK thread must survive whatever the app does.
func (c *Client) call(f func(Listener) error) {
	b := c.listener.Load()
	if b == nil {
		return
	}
	c.inCall.Store(true)
	defer c.inCall.Store(false)
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("listener panicked", "panic", r)
		}
	}()
	if err := f(b.l); err != nil {
		c.log.Warn("listener failed", "err", err)
	}
}

// startSession starts a Conn if the Client wants one (dispatcher only, so
// that LastSeq counts every message delivered before it).
func (c *Client) startSession() {
	c.mu.Lock()
	if c.closed || c.cur != nil || c.suspendedLocked() {
		c.mu.Unlock()
		return
	}
	s := &session{retired: make(chan struct{})}
	cfg := c.set.conn
	cfg.LastSeq = c.delivered.Load()
	cfg.Logger = c.log
	cfg.OnMessage = func(m *pack.Message) { c.onConnMessage(s, m) }
	cfg.OnState = func(st client.State, err error) { c.onConnState(s, st, err) }
	conn, err := client.NewConn(cfg)
	if err != nil { // validated by NewClient: not expected
		c.closed, c.err = true, err
		c.post(&event{state: StateClosed, reason: err.Error(), final: true})
		c.mu.Unlock()
		return
	}
	if c.slowLocked() {
		// Before Connect: the Conn asks for background mode on its first
		// connection and every reconnect (docs/protocol.md §11.1).
		conn.SetBackground(true)
	}
	s.conn = conn
	c.cur = s
	live := c.sessions[:0]
	for _, old := range c.sessions { // forget sessions that have ended
		select {
		case <-old.conn.Done():
		default:
			live = append(live, old)
		}
	}
	c.sessions = append(live, s)
	c.notifyLocked()
	c.mu.Unlock()
	// Connect with a done context starts the Conn and returns at once
	// (documented by client.Conn.Connect); its callbacks report the rest.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = conn.Connect(ctx)
}

// onConnMessage runs on a Conn's dispatcher goroutine. It hands m to the
// Client's dispatcher and waits until OnMessage returned, so the Conn acks
// a push only once the app has it.
func (c *Client) onConnMessage(s *session, m *pack.Message) {
	ev := &event{
		sess: s, uri: m.URI, body: m.Body, seq: m.Seq, meta: m.Meta,
		persist: m.Seq > 0 && m.Get(pack.MetaPersist) == "1",
		done:    make(chan struct{}),
	}
	c.mu.Lock()
	queued := !s.isRetired() && c.post(ev)
	c.mu.Unlock()
	if queued {
		select {
		case <-ev.done:
			return
		case <-s.retired:
		}
	}
	awaitStopped(s.conn)
}

// awaitStopped waits until a retired session's Conn has stopped. The Conn
// records a message as delivered (and may ack it) when OnMessage returns;
// returning only once its connections are gone means a message the app
// never saw is never acked. The Client closes the Conn right after
// retiring it; its connections die at once (the socket is closed, an
// attempt in progress is cancelled), so this is a short wait on a rare
// path, and bounded in case of a bug.
func awaitStopped(conn *client.Conn) {
	deadline := time.Now().Add(30 * time.Second)
	for conn.State() != client.StateClosed && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
}

// onConnState runs on a Conn's dispatcher goroutine and translates its
// state changes for the Listener. The Conn's states are those of
// docs/protocol.md §13.6 already; the Listener gets them with their
// detail: the code and reason that ended a connection with
// StateReconnecting (and its delay), the terminal code with StateClosed.
func (c *Client) onConnState(s *session, st client.State, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.isRetired() {
		return
	}
	s.backoff = false
	switch st {
	case client.StateConnecting:
		c.post(&event{state: StateConnecting})
	case client.StateOnline:
		c.post(&event{state: StateOnline})
	case client.StateReconnecting:
		s.backoff = true
		cause, delay := err, time.Duration(0)
		var re *client.RetryError
		if errors.As(err, &re) {
			cause, delay = re.Err, re.Delay
		}
		c.post(&event{state: StateReconnecting, code: codeOf(cause), reason: errText(cause), delayMs: delay.Milliseconds()})
	case client.StateClosed:
		// Only the node ends a session that was not retired: a terminal
		// code (4xxx; 4001 when it refused the token). The Client is done.
		// The session is not retired: messages it queued before still
		// reach the Listener, then the final event.
		c.cur = nil
		c.notifyLocked()
		c.closed = true
		c.err = errClosed
		if err != nil {
			c.err = fmt.Errorf("%w: %w", errClosed, err)
		}
		c.post(&event{state: StateClosed, code: codeOf(err), reason: errText(err), final: true})
	}
}

// codeOf returns the node's code carried by err, or 0.
func codeOf(err error) int64 {
	if code, ok := pack.CodeOf(err); ok {
		return int64(code)
	}
	return 0
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
