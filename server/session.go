package server

import (
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lesismal/nbio"

	"github.com/plexpush/plex/pack"
)

// transport is what a Session needs from its socket: the nbio event-loop
// conn (plain TCP) or a goroutine-driven TLS conn (tlsconn.go).
type transport interface {
	Writev(bufs [][]byte) (int, error)
	Close() error
	RemoteAddr() net.Addr
}

// Session states.
const (
	stateNew     int32 = iota // accepted, waiting for the first frame
	stateAuthing              // app auth frame received, authenticator running
	stateApp                  // authenticated app
	stateInner                // authenticated push client
	stateClosed
)

// Session is one connection to the node: an app (after /auth/server) or a
// push client (after /inner/auth/server). Its methods are safe for concurrent
// use. Memory matters here: a node holds tens of thousands of these, so the
// struct holds no logger, timer or goroutine of its own.
type Session struct {
	// Fields are ordered by size so that the struct fits the 240-byte size
	// class (it is most of an idle connection's cost; see docs/benchmarks.md).
	srv      *Server
	id       uint64
	tr       transport
	accepted int64
	lastRead atomic.Int64 // unix nanos of the last inbound bytes: liveness

	// read side, owned by whoever holds inMu (the poller, or the auth goroutine)
	dec    pack.Decoder
	uid    key       // the uid scoped by its app (see scope)
	app    *appState // the app it authenticated to (push clients too)
	limit  *connLimit
	device string

	// write side
	pending [][]byte

	prev, next *Session // in Server.sessions; guarded by Server.mu

	state     atomic.Int32
	codec     atomic.Uint32 // pack.Codec (set once from the first frame, read by writers) | bgBit (session_heartbeat.go)
	closeCode atomic.Uint32 // pack.Code of why the node closed it (0: the peer went away; stopBit: closing, session_drain.go)
	inMu      sync.Mutex    // guards the read side
	outMu     sync.Mutex    // guards the write side
	closed    atomic.Bool
	outQueued atomic.Int32 // bytes handed to nbio, not yet written (write_budget.go)
	innerOnly bool         // accepted on Config.InnerAddr
	acks      bool
	preauth   bool // counted in its address's pre-auth share; under preauthLimit.mu (preauth_limit.go)
}

// sessionList is an intrusive doubly linked list of open sessions: O(1)
// add and remove, and no per-session allocation (a map cost ~100 bytes
// per connection, a tenth of the idle budget).
type sessionList struct {
	head *Session
	n    int
}

func (l *sessionList) add(s *Session) {
	s.next = l.head
	if l.head != nil {
		l.head.prev = s
	}
	l.head = s
	l.n++
}

func (l *sessionList) remove(s *Session) {
	if s.prev == nil && l.head != s {
		return // not in the list
	}
	if s.prev != nil {
		s.prev.next = s.next
	} else {
		l.head = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	}
	s.prev, s.next = nil, nil
	l.n--
}

func (l *sessionList) all() []*Session {
	out := make([]*Session, 0, l.n)
	for s := l.head; s != nil; s = s.next {
		out = append(out, s)
	}
	return out
}

// ID returns the node-unique connection id.
func (s *Session) ID() uint64 { return s.id }

// UID returns the authenticated user id ("" for push clients).
func (s *Session) UID() string { return unscope(s.uid) }

// App returns the id of the app the connection belongs to ("" = default).
func (s *Session) App() string {
	if s.app == nil {
		return ""
	}
	return s.app.ID
}

// Device returns the device id the app announced (meta "device"), or "".
func (s *Session) Device() string { return s.device }

// RemoteAddr returns the peer's address.
func (s *Session) RemoteAddr() net.Addr { return s.tr.RemoteAddr() }

// Acks reports whether the app acks persistent pushes.
func (s *Session) Acks() bool { return s.acks }

// Codec returns the connection's codec (AutoCodec until the first frame).
func (s *Session) Codec() pack.Codec { return pack.Codec(s.codec.Load() &^ bgBit) }

// Send writes m to this connection now (e.g. a reply from OnUpstream).
func (s *Session) Send(m *pack.Message) error {
	frame, err := pack.EncodeFrame(s.srv.cfg.ByteOrder, s.wireCodec(), m)
	if err != nil {
		return err
	}
	if s.closeCode.Load() != 0 {
		return ErrConnClosed // closing (Close was called): nothing new goes out
	}
	if _, ok := s.enqueue(frame); !ok {
		return ErrConnClosed // closed or closing: the frame was not queued
	}
	s.flush()
	return nil
}

// Close closes the connection with /disconnect c, telling the peer why,
// once every request the connection executed was answered (protocol
// §13.4); nothing it sends after the call is executed.
func (s *Session) Close(c pack.Code, reason string) { s.closeAnswered(c, reason) }

func (s *Session) wireCodec() pack.Codec {
	if c := s.Codec(); c != pack.AutoCodec {
		return c
	}
	return pack.JSON
}

// frame returns m's encoding for this connection from the shared encoding,
// or nil when the connection must not get it (its own room message).
func (s *Session) frame(sh *pack.Shared) []byte {
	if s.srv.echoes.skip(s, sh.Message()) {
		return nil // its own room message: it holds what it sent (message_room.go)
	}
	b, _ := sh.Frame(s.wireCodec()) // validated when the push was accepted
	return b
}

// enqueue appends a frame to the pending list. first reports that the list
// was empty before (the caller then owes a flush); ok is false when the
// connection is closed or closing and the frame was dropped. Frames are
// shared and never copied here.
func (s *Session) enqueue(frame []byte) (first, ok bool) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	if s.closed.Load() || s.finalCode() != 0 {
		return false, false // closed, or closing: the final frame was the last
	}
	s.pending = append(s.pending, frame)
	return len(s.pending) == 1, true
}

// maxIovecs is the kernel's IOV_MAX: one writev takes at most this many buffers.
const maxIovecs = 1024

// flush writes every pending frame with one writev (per 1024 frames). The
// write lock is held across the write so that frames of concurrent pushes
// reach the socket in the order they were queued.
func (s *Session) flush() {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	if len(s.pending) == 0 {
		return
	}
	if s.closed.Load() {
		clear(s.pending)
		s.pending = nil
		return
	}
	m := s.srv.metrics
	frames := len(s.pending)
	var bytes int
	for _, b := range s.pending {
		bytes += len(b)
	}
	var err error
	if _, ok := s.tr.(*nbio.Conn); ok {
		s.srv.budget.handed(s, bytes)
	}
	for rest := s.pending; len(rest) > 0 && err == nil; {
		n := min(len(rest), maxIovecs)
		if nb, ok := s.tr.(*nbio.Conn); ok {
			_, err = s.srv.pollers.writev(nb, rest[:n])
		} else {
			_, err = s.tr.Writev(rest[:n])
		}
		rest = rest[n:]
		m.writes.Inc()
	}
	clear(s.pending)
	s.pending = nil // an idle connection keeps no list at all
	if err != nil {
		// nbio closed the conn (overflow of WriteQueueBytes or a socket
		// error); OnClose does the bookkeeping.
		return
	}
	m.framesOut.Add(float64(frames))
	m.bytesOut.Add(float64(bytes))
}

// closeWith sends /disconnect with code c (best effort) and closes.
func (s *Session) closeWith(c pack.Code, reason string) {
	s.closeFrame(pack.URIDisconnect, c, reason)
}

// closeFrame sends an error frame (uri /disconnect or /auth/failed) and
// closes the connection; the first close wins.
func (s *Session) closeFrame(uri string, c pack.Code, reason string) {
	m := pack.ErrorMessage(uri, 0, c, reason)
	frame, err := pack.EncodeFrame(s.srv.cfg.ByteOrder, s.wireCodec(), &m)
	if s.closed.Load() {
		return
	}
	s.outMu.Lock()
	if !s.setFinal(c) {
		s.outMu.Unlock()
		return
	}
	if err == nil {
		s.pending = append(s.pending, frame) // the last frame: nothing is queued after it
	}
	s.outMu.Unlock()
	// counted before the frame leaves: a peer that read it sees it counted
	s.srv.metrics.closes.WithLabelValues(codeLabel(c)).Inc()
	s.flush()
	s.lingerClose()
}

// closeLinger bounds how long a closing connection waits for its peer to
// close after the final frame.
const closeLinger = time.Second

// lingerClose ends a plain TCP connection gracefully: FIN after the final
// frame, input discarded, and the socket closed when the peer closes too or
// after closeLinger. Closing at once while input is unread makes the kernel
// answer with RST, and an RST can destroy the final frame (e.g.
// /auth/failed) before the peer read it: the peer would then see a network
// error and retry credentials that can never work. Other transports close
// their own way (TLS and WebSocket drain their writer first).
//
// The descriptor is only ever closed by the connection's own poller (see
// shutdownFD): closing it from another goroutine frees its number while the
// poller may hold an event for it, and nbio would apply that event to the
// next connection given the same number (a hang-up event closes it: a
// fresh connection dropped at random).
func (s *Session) lingerClose() {
	if nb, ok := s.tr.(*nbio.Conn); ok {
		s.shutdownFD(nb, syscall.SHUT_WR)
		s.srv.timers.after(closeLinger, func() {
			// The peer did not close: end both directions; the poller
			// reads the end of stream and closes the connection.
			s.shutdownFD(nb, syscall.SHUT_RDWR)
		})
		return
	}
	_ = s.tr.Close()
}

// shutdownFD shuts the connection's socket down (how: syscall.SHUT_*),
// unless nbio closed it already. nbio hands out the bare descriptor
// number, valid only while nbio has not closed it: after that the number
// may belong to another connection of the process. Every close in nbio
// marks the connection closed under its lock before it closes the
// descriptor, so the call runs under that lock and only while it is open.
func (s *Session) shutdownFD(nb *nbio.Conn, how int) {
	rc, err := nb.SyscallConn()
	if err != nil {
		_ = nb.Close()
		return
	}
	nb.Lock()
	defer nb.Unlock()
	if closed, _ := nb.IsClosed(); !closed {
		_ = rc.Control(func(fd uintptr) { _ = syscall.Shutdown(int(fd), how) })
	}
}

// replyError sends a non-fatal /error for request seq.
func (s *Session) replyError(b *batch, seq int64, c pack.Code, reason string) {
	m := pack.ErrorMessage(pack.URIError, seq, c, reason)
	s.srv.metrics.errors.WithLabelValues(codeLabel(c)).Inc()
	s.sendMsg(b, &m)
}

// sendMsg encodes m for this connection and adds it to batch b.
func (s *Session) sendMsg(b *batch, m *pack.Message) {
	frame, err := pack.EncodeFrame(s.srv.cfg.ByteOrder, s.wireCodec(), m)
	if err != nil {
		s.srv.log.Error("encode reply", "conn", s.id, "err", err)
		return
	}
	b.add(s, frame)
}
