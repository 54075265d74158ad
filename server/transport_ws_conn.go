package server

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"net"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/lesismal/nbio"

	"github.com/plexpush/plex/pack"
)

// wsConn is a Session's transport over WebSocket.
//
// Write side: every frame the session queues is a complete plex frame
// (4-byte length + body), shared by many sessions and immutable; it goes
// out as one unfragmented WebSocket message whose payload is the body
// alone. A server frame is a 2–10 byte header and the unmasked payload
// (RFC 6455 §5.2), so a broadcast's shared bodies reach the socket with
// one writev per connection and no copy.
//
// Read side: raw bytes from the event loop go through a small frame
// assembler (gobwas/ws parses and checks each header and unmasks); whole
// messages enter the session through Session.onMessage. Nothing is
// buffered while idle: in and msg are nil between messages.
type wsConn struct {
	s  *Session
	nb *nbio.Conn  // event-loop mode: the socket joined srv.engine
	bl *wsBlocking // blocking mode: a socket that cannot (e.g. TLS)
	// phase is wsNew until acceptWS has initialised everything (the
	// poller's first access loads it, which orders it after acceptWS's
	// writes), wsOpen, then wsClosing once a close frame was sent.
	phase atomic.Int32

	// Read side, owned by the reading goroutine (the poller, or readLoop).
	preAuth int       // bytes received before auth
	in      []byte    // the bytes of an incomplete frame
	msg     []byte    // the fragments of an incomplete message
	msgOp   ws.OpCode // the opcode of msg's first fragment
	frag    bool      // a fragmented message is in progress
	broken  bool      // a framing error: drop everything until the socket closes
}

const (
	wsNew int32 = iota
	wsOpen
	wsClosing
)

// WebSocket opcodes (RFC 6455 §5.2) and the largest server frame header.
const (
	wsText      byte = 0x1
	wsBinary    byte = 0x2
	wsClose     byte = 0x8
	wsPong      byte = 0xA
	wsFin       byte = 0x80
	wsMaxHeader      = 10
)

// wsCloseGrace bounds the closing handshake: after its close frame the
// node reads (and drops) what the peer still sends until the peer's close
// frame or EOF, at most this long. Closing with unread input would make the
// kernel reset the connection, and a reset can destroy the /disconnect
// frame and the close status before the peer reads them: a terminal code
// (4xxx) must arrive, or the client would reconnect forever.
const wsCloseGrace = time.Second

func wsOpcode(c pack.Codec) byte {
	if c == pack.Protobuf {
		return wsBinary
	}
	return wsText
}

// appendWSHeader appends an unmasked, final frame header for an n-byte payload.
func appendWSHeader(dst []byte, op byte, n int) []byte {
	switch {
	case n < 126:
		return append(dst, wsFin|op, byte(n))
	case n <= 0xffff:
		return append(dst, wsFin|op, 126, byte(n>>8), byte(n))
	}
	return binary.BigEndian.AppendUint64(append(dst, wsFin|op, 127), uint64(n))
}

// wsCloseFrame is a close frame whose status is the plex code: 3000–3999
// (reconnect) and 4000–4999 (stop) are the ranges RFC 6455 §7.4.2 leaves to
// frameworks and applications, so the status carries the code unchanged.
func wsCloseFrame(c pack.Code) []byte {
	return []byte{wsFin | wsClose, 2, byte(c >> 8), byte(c)}
}

// wsFrames turns plex frames into iovecs: a header then the shared body,
// per frame. The headers share one allocation.
func wsFrames(frames [][]byte, op byte) [][]byte {
	hdrs := make([]byte, 0, wsMaxHeader*len(frames))
	bufs := make([][]byte, 0, 2*len(frames))
	for _, f := range frames {
		body := f[pack.HeaderSize:]
		i := len(hdrs)
		hdrs = appendWSHeader(hdrs, op, len(body))
		bufs = append(bufs, hdrs[i:len(hdrs):len(hdrs)])
		if len(body) > 0 {
			bufs = append(bufs, body)
		}
	}
	return bufs
}

// Writev writes the frames as WebSocket messages. In event-loop mode it is
// non-blocking: what the socket does not take waits in nbio's buffer,
// bounded by Config.WriteQueueBytes (over it nbio closes the connection and
// the session ends as a slow consumer, 3002). Nothing is written after the
// close frame (RFC 6455 §5.5.1).
func (t *wsConn) Writev(frames [][]byte) (int, error) {
	if t.phase.Load() == wsClosing {
		return 0, net.ErrClosed
	}
	op := wsOpcode(t.s.wireCodec())
	if t.bl != nil {
		return t.bl.write(frames, op)
	}
	var n int
	for len(frames) > 0 {
		k := min(len(frames), maxIovecs/2) // a header and a body per frame
		bufs := wsFrames(frames[:k], op)
		var total int
		for _, b := range bufs {
			total += len(b)
		}
		t.s.srv.budget.handed(t.s, total)
		w, err := t.s.srv.pollers.writev(t.nb, bufs)
		n += w
		if err != nil {
			return n, err
		}
		frames = frames[k:]
	}
	return n, nil
}

// writeRaw writes WebSocket bytes of the node's own (control frames).
func (t *wsConn) writeRaw(b []byte) error {
	if t.bl != nil {
		return t.bl.enqueue(b)
	}
	t.s.srv.budget.handed(t.s, len(b))
	return t.s.srv.pollers.write(t.nb, b)
}

// Close ends the connection with a close frame whose status is the code
// the session closed with (after its /disconnect or /auth/failed frame),
// then the closing handshake; without a code it closes at once.
func (t *wsConn) Close() error {
	if t.phase.Swap(wsClosing) == wsClosing {
		return nil
	}
	c := t.s.finalCode()
	if c == 0 {
		return t.closeSocket()
	}
	if err := t.writeRaw(wsCloseFrame(c)); err != nil {
		return t.closeSocket()
	}
	return t.lingerDeadline()
}

// lingerDeadline closes the socket wsCloseGrace from now unless the peer's
// close frame (see frame) or EOF comes first.
func (t *wsConn) lingerDeadline() error {
	if t.bl != nil {
		return t.bl.c.SetReadDeadline(time.Now().Add(wsCloseGrace))
	}
	// Not nbio's read deadline: its timer would close the descriptor from
	// another goroutine than the poller (see Session.lingerClose).
	t.s.srv.timers.after(wsCloseGrace, func() { t.s.shutdownFD(t.nb, syscall.SHUT_RDWR) })
	return nil
}

// closeSocket ends the socket now; on the event loop, by a shutdown the
// poller turns into the close (see Session.lingerClose).
func (t *wsConn) closeSocket() error {
	if t.bl != nil {
		return t.bl.c.Close()
	}
	t.s.shutdownFD(t.nb, syscall.SHUT_RDWR)
	return nil
}

func (t *wsConn) RemoteAddr() net.Addr {
	if t.bl != nil {
		return t.bl.c.RemoteAddr()
	}
	return t.nb.RemoteAddr()
}

// wsPreAuthBytes bounds what a connection may send before its auth
// completes: the auth message, twice the auth limit of further messages
// (as on TCP, §3.3) and some framing. It is checked on raw bytes as they
// arrive, so an unauthenticated peer costs at most this.
func wsPreAuthBytes(c *Config) int {
	if c.AuthMaxFrame > (math.MaxInt-1024)/3 {
		return math.MaxInt // a configured limit this large bounds nothing; 3× of it would wrap
	}
	return 3*c.AuthMaxFrame + 1024
}

// limit is the message limit in force: the auth limit until the node has
// sent /auth/success, then Config.MaxFrame (§3.3).
func (t *wsConn) limit() int {
	if st := t.s.state.Load(); st == stateApp || st == stateInner {
		return t.s.srv.cfg.MaxFrame
	}
	return t.s.srv.cfg.AuthMaxFrame
}

// onData is the read path: raw bytes from the socket, on the poller
// goroutine (or readLoop); data is only valid during the call. Any bytes,
// pings and pongs included, prove the peer alive. A panic is contained
// to this connection (read.go, Session.recoverInput).
func (t *wsConn) onData(data []byte) {
	defer t.recoverInput()
	t.read(data)
}

// recoverInput is wsConn's Session.recoverInput: the connection's input
// is dropped from now on, and it closes with 3005.
func (t *wsConn) recoverInput() {
	r := recover()
	if r == nil {
		return
	}
	t.broken = true
	t.in, t.msg = nil, nil
	t.s.contain(r)
	if t.phase.Load() == wsClosing {
		_ = t.lingerDeadline() // the close frame went out earlier: do not wait for the peer's
	}
}

// read is onData without the panic containment (the fuzz target calls it,
// so that a panic fails the target instead of closing a connection).
func (t *wsConn) read(data []byte) {
	if t.phase.Load() == wsNew { // pairs with acceptWS's publishing store
		return
	}
	s := t.s
	st := s.state.Load()
	if st == stateClosed {
		return
	}
	s.lastRead.Store(time.Now().UnixNano())
	s.srv.metrics.bytesIn.Add(float64(len(data)))
	if t.broken {
		return
	}
	if st == stateNew || st == stateAuthing {
		t.preAuth += len(data)
		if t.preAuth > wsPreAuthBytes(&s.srv.cfg) {
			t.fail(pack.CodeFrameTooLarge, "too much data before auth completed", "too_large")
			return
		}
	}
	buf := data
	if len(t.in) > 0 {
		t.in = append(t.in, data...)
		buf = t.in
	}
	n := t.frames(buf)
	switch rest := buf[n:]; {
	case t.broken || len(rest) == 0:
		t.in = nil
	case n > 0 || len(t.in) == 0:
		t.in = append([]byte(nil), rest...) // data is the poller's buffer: copy
	}
}

// frames handles every whole frame at the start of buf and returns how
// many bytes they took.
func (t *wsConn) frames(buf []byte) int {
	off := 0
	for !t.broken {
		p := buf[off:]
		if len(p) < 2 {
			break
		}
		hlen := 2
		switch p[1] & 0x7f {
		case 126:
			hlen += 2
		case 127:
			hlen += 8
		}
		if p[1]&0x80 != 0 {
			hlen += 4
		}
		if len(p) < hlen {
			break
		}
		h, err := ws.ReadHeader(bytes.NewReader(p[:hlen]))
		if err == nil {
			state := ws.StateServerSide
			if t.frag {
				state |= ws.StateFragmented
			}
			err = ws.CheckHeader(h, state)
		}
		if err != nil {
			t.fail(pack.CodeBadFrame, "websocket: "+err.Error(), "decode")
			break
		}
		if !h.OpCode.IsControl() && wsOverLimit(len(t.msg), h.Length, t.limit()) {
			// checked on the header, before any of the payload is kept
			t.fail(pack.CodeFrameTooLarge, "frame over the limit", "too_large")
			break
		}
		// h.Length is at most the limit here (control frames: 125, by
		// CheckHeader), and it is compared with what arrived rather than
		// added to an offset first: no sum of the peer's numbers can wrap.
		if int64(len(p)-hlen) < h.Length {
			break
		}
		end := hlen + int(h.Length)
		payload := p[hlen:end]
		ws.Cipher(payload, h.Mask, 0)
		off += end
		t.frame(h, payload)
	}
	return off
}

// wsOverLimit reports whether a data frame of n payload bytes would take the
// message past limit when have bytes of it are already assembled. n is the
// peer's, up to 2^63-1: it is checked on its own before anything is added
// to it (have+n wrapped negative and passed, issue 12).
func wsOverLimit(have int, n int64, limit int) bool {
	return n > int64(limit) || int64(have) > int64(limit)-n
}

// frame handles one whole, unmasked frame.
func (t *wsConn) frame(h ws.Header, payload []byte) {
	switch h.OpCode {
	case ws.OpText, ws.OpBinary:
		if !h.Fin {
			t.msg, t.msgOp, t.frag = append([]byte(nil), payload...), h.OpCode, true
			return
		}
		t.message(h.OpCode, payload)
	case ws.OpContinuation:
		t.msg = append(t.msg, payload...)
		if h.Fin {
			msg, op := t.msg, t.msgOp
			t.msg, t.frag = nil, false
			t.message(op, msg)
		}
	case ws.OpPing:
		if t.phase.Load() == wsOpen {
			_ = t.writeRaw(append(appendWSHeader(nil, wsPong, len(payload)), payload...))
		}
	case ws.OpPong:
		// liveness only (onData)
	case ws.OpClose:
		if t.phase.Swap(wsClosing) == wsClosing {
			// the answer to the node's close frame: the handshake is complete
			_ = t.closeSocket()
			t.broken = true
			return
		}
		// The peer closes: answer with its status (RFC 6455 §5.5.1), or
		// 1002 if the close payload is malformed, then close the socket.
		reply := []byte{wsFin | wsClose, 0}
		if code, reason := ws.ParseCloseFrameData(payload); !code.Empty() {
			if ws.CheckCloseFrameData(code, reason) != nil {
				code = ws.StatusProtocolError
			}
			reply = append(reply[:1], 2, byte(code>>8), byte(code))
		} else if len(payload) == 1 {
			reply = append(reply[:1], 2, byte(ws.StatusProtocolError>>8), byte(ws.StatusProtocolError&0xff))
		}
		_ = t.writeRaw(reply)
		_ = t.closeSocket()
		t.broken = true
	}
}

// message hands one whole message to the session.
func (t *wsConn) message(op ws.OpCode, body []byte) {
	if t.phase.Load() != wsOpen {
		return // closing: what the peer still sends is dropped
	}
	if op == ws.OpText && !utf8.Valid(body) {
		t.fail(pack.CodeBadFrame, "websocket: invalid UTF-8 in a text message", "decode")
		return
	}
	// The opcode is not checked against the codec: the codec is detected
	// from the first body as on TCP; the node answers JSON in text and
	// protobuf in binary messages.
	t.s.onMessage(body)
}

// fail ends a connection whose input cannot be used any more: /disconnect
// with the code, the close frame, and everything after it is dropped.
func (t *wsConn) fail(c pack.Code, reason, metric string) {
	t.broken = true
	t.in, t.msg = nil, nil
	t.s.srv.metrics.badFrames.WithLabelValues(metric).Inc()
	t.s.srv.log.Warn("websocket input refused", "conn", t.s.id, "remote", t.RemoteAddr(), "code", int(c), "reason", reason)
	t.s.closeAnswered(c, reason)
	if t.phase.Load() == wsClosing {
		_ = t.lingerDeadline() // already closing: do not wait for a close frame that cannot be parsed
	}
}

// engineClosed is nbio's OnClose for the connection (on a goroutine of
// nbio's): the one teardown path.
func (t *wsConn) engineClosed(err error) {
	t.phase.Load() // orders this goroutine after acceptWS
	t.s.srv.closed(t.s, err)
}

// readLoop is a blocking-mode connection's reader goroutine; it exits when
// the socket closes, after the writer.
func (t *wsConn) readLoop() {
	buf := make([]byte, 4096)
	var err error
	for {
		var n int
		n, err = t.bl.c.Read(buf)
		if n > 0 {
			t.onData(buf[:n])
		}
		if err != nil {
			break
		}
	}
	t.bl.c.Close()
	t.bl.stop()
	t.bl.wg.Wait()
	if t.bl.overflowed() {
		err = errWSOverflow
	}
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	t.s.srv.closed(t.s, err)
}
