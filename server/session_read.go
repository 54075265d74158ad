package server

import (
	"runtime/debug"
	"time"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
)

// onData is the read path: bytes from the socket → decoder → frames →
// handle. It runs on the poller goroutine (or the TLS reader goroutine).
func (s *Session) onData(data []byte) {
	defer s.recoverInput()
	if s.state.Load() == stateClosed { // also pairs with accept's publishing store
		return
	}
	if s.closeCode.Load() != 0 {
		return // closing: input is read (so the peer's FIN is seen) and dropped
	}
	s.lastRead.Store(time.Now().UnixNano())
	s.srv.metrics.bytesIn.Add(float64(len(data)))
	if s.srv.offload(s, data) {
		return
	}
	s.inMu.Lock()
	defer s.inMu.Unlock()
	if s.closed.Load() || s.closeCode.Load() != 0 { // closing: execute nothing more (§13.4)
		return
	}
	s.dec.Feed(data)
	s.drain()
}

// drain handles every whole frame buffered; called with inMu held. Replies
// and pushes produced by these frames are coalesced into one batch and
// flushed once at the end: one writev per connection touched.
//
// It contains panics itself because it also runs off the read path (the
// auth goroutine, a push client's worker), where nothing else would.
func (s *Session) drain() {
	defer s.recoverInput()
	b := s.srv.getBatch()
	defer s.srv.putBatch(b)
	var m pack.Message
	for {
		if s.closeCode.Load() != 0 {
			break // closing: nothing after the close frame is executed (§13.4)
		}
		if s.state.Load() == stateAuthing {
			// Frames after the auth frame wait for the authenticator; keep
			// them, bounded by the pre-auth limit.
			// (a difference, not 2*AuthMaxFrame: that wraps for a huge configured limit)
			if s.dec.Buffered()-s.srv.cfg.AuthMaxFrame > s.srv.cfg.AuthMaxFrame {
				b.flush()
				s.closeAnswered(pack.CodeBadFrame, "too much data before auth completed")
				return
			}
			s.dec.Retain()
			break
		}
		body, ok, err := s.dec.Next()
		if err != nil {
			b.flush()
			s.srv.metrics.badFrames.WithLabelValues("too_large").Inc()
			s.closeAnswered(pack.CodeFrameTooLarge, "frame over the limit")
			return
		}
		if !ok {
			break
		}
		if !s.handleBody(b, body, &m) {
			return
		}
	}
	b.flush()
}

// onMessage is the read path of transports that frame messages themselves
// (WebSocket: one plex message per WebSocket message): body is one whole
// frame body, without the 4-byte length header. Every other rule of onData
// holds: the limit in force (pre-auth or after auth), codec detection from
// the first body, auth, frames held while the authenticator runs, order.
// body is only valid during the call.
func (s *Session) onMessage(body []byte) {
	if s.state.Load() == stateClosed {
		return
	}
	s.lastRead.Store(time.Now().UnixNano())
	s.inMu.Lock()
	defer s.inMu.Unlock()
	if s.closed.Load() || s.closeCode.Load() != 0 {
		return
	}
	if len(body) > s.dec.Limit() {
		s.srv.metrics.badFrames.WithLabelValues("too_large").Inc()
		s.closeAnswered(pack.CodeFrameTooLarge, "frame over the limit")
		return
	}
	if s.state.Load() == stateAuthing || s.dec.Buffered() > 0 {
		// The authenticator is running: the message waits in the decoder,
		// framed as on a stream, so that drain keeps the order and the
		// pre-auth bound exactly as for TCP (it copies what it retains).
		var h [pack.HeaderSize]byte
		s.srv.cfg.ByteOrder.PutHeader(h[:], uint32(len(body)))
		s.dec.Feed(h[:])
		s.dec.Feed(body)
		s.drain()
		return
	}
	b := s.srv.getBatch()
	defer s.srv.putBatch(b)
	var m pack.Message
	if s.handleBody(b, body, &m) {
		b.flush()
	}
}

// handleBody detects the codec (first frame), decodes one frame body and
// runs it through the state machine. It returns false when the connection
// was closed (b is flushed first).
func (s *Session) handleBody(b *batch, body []byte, m *pack.Message) bool {
	codec := s.Codec()
	if codec == pack.AutoCodec {
		var err error
		if codec, err = pack.Detect(body); err != nil {
			b.flush()
			s.badFrame(err)
			return false
		}
		s.codec.Store(uint32(codec))
	}
	if err := codec.Decode(body, m); err != nil {
		b.flush()
		s.badFrame(err)
		return false
	}
	s.srv.metrics.framesIn.Inc()
	if s.state.Load() >= stateApp && !s.limit.allow(len(body)) {
		s.srv.metrics.rateLimited.WithLabelValues("connection").Inc()
		s.replyError(b, m.Seq, pack.CodeRateLimited, "connection frame or byte rate exceeded")
		m.Meta = nil
		return true
	}
	if !s.handle(b, m) {
		b.flush()
		return false
	}
	m.Meta = nil // handlers may keep the message; never reuse its map
	return true
}

func (s *Session) badFrame(err error) {
	s.srv.metrics.badFrames.WithLabelValues("decode").Inc()
	s.srv.log.Warn("bad frame", "conn", s.id, "remote", s.tr.RemoteAddr(), "err", err)
	s.closeAnswered(pack.CodeBadFrame, err.Error())
}

// handle runs one decoded frame through the state machine. It returns false
// when the connection was closed.
func (s *Session) handle(b *batch, m *pack.Message) bool {
	switch s.state.Load() {
	case stateNew:
		return s.handleFirst(b, m)
	case stateApp:
		return s.handleApp(b, m)
	case stateInner:
		return s.srv.handleInner(s, b, m)
	}
	return false
}

// handleFirst: the first frame must authenticate.
func (s *Session) handleFirst(b *batch, m *pack.Message) bool {
	switch m.URI {
	case pack.URIAuth:
		if s.innerOnly {
			s.closeFrame(pack.URIAuthFailed, pack.CodeForbidden, "this listener serves push clients only")
			return false
		}
		s.startAuth(m)
		return true
	case pack.URIInnerAuth:
		return s.innerAuth(b, m)
	case pack.URIHeartbeat:
		b.add(s, s.srv.heartbeatFrame(s.wireCodec()))
		return true
	}
	s.srv.metrics.auths.WithLabelValues("failed").Inc()
	s.closeFrame(pack.URIAuthFailed, pack.CodeAuthFailed, "first frame must be "+pack.URIAuth)
	return false
}

func (s *Session) handleApp(b *batch, m *pack.Message) bool {
	switch m.URI {
	case pack.URIHeartbeat:
		s.heartbeat(b, m)
	case pack.URIAck:
		s.srv.ack(s, m.Seq)
	case pack.URIRoomJoin, pack.URIRoomLeave:
		s.srv.clientRoom(s, b, m)
	case pack.URIMessage:
		s.srv.userMessage(s, b, m)
	case pack.URIAuth, pack.URIInnerAuth:
		s.replyError(b, m.Seq, pack.CodeBadRequest, "already authenticated")
	default:
		if pack.PushOnly(m.URI) {
			s.srv.log.Warn("push-only uri from an app", "conn", s.id, "uid", s.uid, "uri", m.URI)
			s.replyError(b, m.Seq, pack.CodeForbidden, m.URI+" is for push clients only")
			return true
		}
		if pack.Reserved(m.URI) {
			s.replyError(b, m.Seq, pack.CodeBadRequest, m.URI+" is not sent by apps")
			return true
		}
		if h := s.srv.cfg.OnUpstream; h != nil {
			s.srv.metrics.upstream.WithLabelValues("handled").Inc()
			msg := *m
			h(s, &msg)
		} else {
			s.srv.metrics.upstream.WithLabelValues("dropped").Inc()
		}
	}
	return true
}

// Panic containment (docs/architecture.md, "Panics"). A panic while one
// connection's input is handled (a bug of the node's, or of a hook the
// embedder set: an authenticator, OnUpstream) must not end the process:
// on a poller it would, and every other connection with it. Each read path
// defers recoverInput: Session.onData (the TCP event loop and the TLS
// reader), wsConn.onData (WebSocket, event loop and blocking) and drain
// (also run by the auth goroutine and a push client's worker). The
// connection is closed with 3005 (reconnect), the panic is logged at Error
// with its stack and counted in plex_panics_total. Locks released by a
// deferred unlock (inMu, outMu) are released by the unwinding; one taken
// without (e.g. the order lock that online holds across Store calls) would
// stay held: containment keeps the process up, it cannot undo that.

// recoverInput is deferred by the read paths; it must be the deferred
// function itself for recover to stop the panic.
func (s *Session) recoverInput() {
	if r := recover(); r != nil {
		s.contain(r)
	}
}

// contain closes s after a recovered panic r, on the goroutine that
// panicked (its stack is still the panic's).
func (s *Session) contain(r any) {
	srv := s.srv
	srv.metrics.panics.Inc()
	srv.log.Error("panic while handling a connection's input; connection closed",
		plog.KeyConn, s.id, plog.KeyRemote, s.tr.RemoteAddr(), "panic", r, "stack", string(debug.Stack()))
	defer func() {
		if r := recover(); r != nil { // closing panicked too: the node stays up all the same
			srv.log.Error("panic while closing a connection after a panic", plog.KeyConn, s.id, "panic", r)
		}
	}()
	// 3008, not 3005: the frame that failed may have partly run, so this
	// close is the one that does not keep §13.4's promise (session_drain.go).
	s.closeWith(pack.CodeOutcomeUnknown, "internal error")
	// If the panic came after the close code was set (e.g. inside
	// closeFrame), closeWith did nothing: end the socket anyway. Closing
	// twice is harmless on every transport.
	s.lingerClose()
}
