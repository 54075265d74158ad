package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"
)

// FuzzWSFrames feeds arbitrary bytes to a WebSocket connection's read side
// (wsConn.read: the frame assembler and the session behind it), split into
// chunks as the socket might deliver them, on a session of a real node
// whose socket is replaced by one that discards writes: no network, no
// goroutine left behind. It fails on any panic (read has no containment)
// and on any Error log (a panic contained further down, in drain, logs
// one), and checks that what the assembler keeps stays within the limit.
//
// The input's first byte picks the run: bit 0 starts with a valid auth
// message (the post-auth limit, an online session), bits 1-7 the chunk
// size (0: everything at once).
func FuzzWSFrames(f *testing.F) {
	for _, seed := range wsFuzzSeeds() {
		f.Add(byte(0), seed)
		f.Add(byte(1), seed)
		f.Add(byte(1|3<<1), seed) // 3-byte chunks: headers split everywhere
	}
	spy := &errorSpy{}
	srv, err := New(Config{Authenticator: fuzzAuth{}, Logger: slog.New(spy), Pollers: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	auth := wsFuzzFrame(true, 0x1, []byte(`{"uri":"/auth/server","body":"fuzz"}`))

	f.Fuzz(func(t *testing.T, mode byte, data []byte) {
		s := srv.newSession(false)
		bl := newWSBlocking(discardConn{}, srv.cfg.WriteQueueBytes, time.Second)
		tc := &wsConn{s: s, bl: bl}
		s.tr = tc
		s.state.Store(stateNew)
		tc.phase.Store(wsOpen)
		if !srv.register(s) {
			t.Fatal("server closed")
		}
		defer func() {
			bl.stop()
			bl.wg.Wait() // the writer goroutine, if one is running
			srv.closed(s, nil)
		}()
		// read unmasks in place (the poller's buffer is its own): give it copies
		data = bytes.Clone(data)
		if mode&1 != 0 {
			tc.read(bytes.Clone(auth))
			if st := s.state.Load(); st != stateApp {
				t.Fatalf("auth: state %d, want %d (online)", st, stateApp)
			}
		}
		chunk := int(mode >> 1)
		if chunk == 0 {
			chunk = max(len(data), 1)
		}
		for p := data; len(p) > 0; {
			n := min(chunk, len(p))
			tc.read(p[:n])
			p = p[n:]
			limit := max(tc.limit(), 125)
			if len(tc.msg) > limit {
				t.Fatalf("assembled %d bytes of a message over the limit %d", len(tc.msg), limit)
			}
			if len(tc.in) > 14+limit {
				t.Fatalf("kept %d bytes of an incomplete frame, limit %d", len(tc.in), limit)
			}
			if tc.preAuth > wsPreAuthBytes(&srv.cfg)+chunk {
				t.Fatalf("took %d bytes before auth", tc.preAuth)
			}
		}
		if msg := spy.take(); msg != "" {
			t.Fatalf("error logged: %s", msg)
		}
	})
}

// wsFuzzSeeds are the interesting inputs: the crash of issue 12, lengths at
// and around every limit and every header form, fragmentation with control
// frames in between, and protocol errors.
func wsFuzzSeeds() [][]byte {
	cat := func(frames ...[]byte) []byte {
		var b []byte
		for _, f := range frames {
			b = append(b, f...)
		}
		return b
	}
	hb := []byte(`{"uri":"/heartbeat"}`)
	big := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = 'x'
		}
		return b
	}
	return [][]byte{
		// issue 12: FIN=0 text of 1 byte, then a continuation declaring 2^63-1
		cat(wsFuzzFrame(false, 0x1, []byte("{")), wsFuzzHeader(true, 0x0, 1<<63-1, 8)),
		cat(wsFuzzFrame(false, 0x1, big(100)), wsFuzzHeader(true, 0x0, 1<<63-100, 8)),
		// a first frame declaring the most a header can, and with the MSB set
		wsFuzzHeader(true, 0x1, 1<<63-1, 8),
		wsFuzzHeader(true, 0x1, 1<<64-1, 8),
		wsFuzzHeader(true, 0x2, 0xffff, 2),
		// non-minimal length forms
		cat(wsFuzzHeader(true, 0x1, uint64(len(hb)), 8), wsFuzzMasked(hb)),
		cat(wsFuzzHeader(true, 0x1, uint64(len(hb)), 2), wsFuzzMasked(hb)),
		// at and just over the pre-auth limit (8 KiB), in one frame and in two
		wsFuzzFrame(true, 0x1, big(8<<10)),
		wsFuzzFrame(true, 0x1, big(8<<10+1)),
		cat(wsFuzzFrame(false, 0x1, big(4<<10)), wsFuzzFrame(true, 0x0, big(4<<10+1))),
		// fragmentation with control frames in between
		cat(wsFuzzFrame(false, 0x1, hb[:7]), wsFuzzFrame(true, 0x9, []byte("ping")),
			wsFuzzFrame(true, 0xA, nil), wsFuzzFrame(true, 0x0, hb[7:])),
		cat(wsFuzzFrame(false, 0x1, hb[:7]), wsFuzzFrame(false, 0x0, nil), wsFuzzFrame(true, 0x0, hb[7:])),
		cat(wsFuzzFrame(false, 0x1, hb[:7]), wsFuzzFrame(true, 0x8, []byte{0x03, 0xe8}), wsFuzzFrame(true, 0x0, hb[7:])),
		cat(wsFuzzFrame(false, 0x1, hb[:7]), wsFuzzFrame(true, 0x1, hb)), // a new message inside one
		// protocol errors
		wsFuzzFrame(false, 0x9, []byte("fragmented ping")),
		wsFuzzFrame(true, 0x9, big(126)),
		wsFuzzFrame(true, 0x0, hb),                     // continuation without a start
		wsFuzzFrame(true, 0x3, hb),                     // reserved opcode
		append([]byte{0x81, byte(len(hb))}, hb...),     // unmasked
		wsFuzzFrame(true, 0x1, []byte{'{', 0xff, '}'}), // invalid UTF-8
		wsFuzzFrame(true, 0x8, []byte{0x03}),           // 1-byte close payload
		wsFuzzFrame(true, 0x8, []byte{0x03, 0xe8, 0xff}),
		// the ordinary: heartbeats, a close, data after it
		cat(wsFuzzFrame(true, 0x1, hb), wsFuzzFrame(true, 0x1, hb), wsFuzzFrame(true, 0x8, nil), wsFuzzFrame(true, 0x1, hb)),
		cat(wsFuzzFrame(true, 0x1, []byte(`{"uri":"/ack","seq":1}`)), wsFuzzFrame(true, 0x1, []byte(`{"uri":"/x","seq":2}`))),
	}
}

var wsFuzzMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// wsFuzzHeader is a masked client frame header declaring n payload bytes
// in the length form of size 0 (7-bit), 2 (16-bit) or 8 (64-bit).
func wsFuzzHeader(fin bool, op byte, n uint64, form int) []byte {
	b := []byte{op}
	if fin {
		b[0] |= 0x80
	}
	switch form {
	case 0:
		b = append(b, 0x80|byte(n))
	case 2:
		b = binary.BigEndian.AppendUint16(append(b, 0x80|126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, 0x80|127), n)
	}
	return append(b, wsFuzzMask[:]...)
}

func wsFuzzMasked(p []byte) []byte {
	out := make([]byte, len(p))
	for i, c := range p {
		out[i] = c ^ wsFuzzMask[i%4]
	}
	return out
}

// wsFuzzFrame is a masked client frame in the shortest length form.
func wsFuzzFrame(fin bool, op byte, payload []byte) []byte {
	form := 0
	switch n := len(payload); {
	case n > 0xffff:
		form = 8
	case n > 125:
		form = 2
	}
	return append(wsFuzzHeader(fin, op, uint64(len(payload)), form), wsFuzzMasked(payload)...)
}

// fuzzAuth authenticates every token as its uid, on the read path.
type fuzzAuth struct{}

func (fuzzAuth) Local() bool { return true }
func (fuzzAuth) Authenticate(_ context.Context, token string, _ net.Addr) (string, error) {
	return token, nil
}

// discardConn is a socket that takes every write and never has input.
type discardConn struct{}

func (discardConn) Read([]byte) (int, error)         { return 0, net.ErrClosed }
func (discardConn) Write(b []byte) (int, error)      { return len(b), nil }
func (discardConn) Close() error                     { return nil }
func (discardConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (discardConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (discardConn) SetDeadline(time.Time) error      { return nil }
func (discardConn) SetReadDeadline(time.Time) error  { return nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }

// errorSpy is a slog handler that keeps the first Error record (with its
// attributes: a contained panic's stack) until take.
type errorSpy struct {
	mu    sync.Mutex
	first string
}

func (h *errorSpy) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h *errorSpy) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *errorSpy) WithGroup(string) slog.Handler                { return h }

func (h *errorSpy) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool {
		msg += fmt.Sprintf(" %s=%v", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.first == "" {
		h.first = msg
	}
	return nil
}

func (h *errorSpy) take() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	msg := h.first
	h.first = ""
	return msg
}
