package server

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// TLS connections cannot ride the event loop (crypto/tls needs blocking
// reads and writes), so each gets one reader goroutine with a small buffer
// and one writer goroutine that drains a bounded queue: a TLS peer that
// stops reading blocks only its own writer, never a broadcast. Memory per
// idle TLS connection is therefore higher than plain TCP;
// docs/benchmarks.md measures both.

var errTLSOverflow = errors.New("server: tls write queue overflow")

type tlsTransport struct {
	c        *tls.Conn
	timers   *closeTimers // the node's
	maxBytes int
	timeout  time.Duration

	mu      sync.Mutex
	queue   [][]byte
	bytes   int
	closed  bool // no more writes accepted
	closing bool // close once the queue is written (the last frame says why)
	over    bool // closed because the queue overflowed
	wake    chan struct{}
}

func newTLSTransport(c *tls.Conn, maxBytes int, timeout time.Duration, timers *closeTimers) *tlsTransport {
	return &tlsTransport{c: c, maxBytes: maxBytes, timeout: timeout, timers: timers, wake: make(chan struct{}, 1)}
}

// Writev queues the frames (shared, not copied) for the writer goroutine.
func (t *tlsTransport) Writev(bufs [][]byte) (int, error) {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return 0, net.ErrClosed
	}
	if t.bytes+n > t.maxBytes {
		t.over = true
		t.mu.Unlock()
		t.c.Close()
		return 0, errTLSOverflow
	}
	t.queue = append(t.queue, bufs...)
	t.bytes += n
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
	return n, nil
}

// writeLoop writes queued frames until the connection closes.
func (t *tlsTransport) writeLoop(done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case <-t.wake:
		}
		for {
			t.mu.Lock()
			q := t.queue
			t.queue, t.bytes = nil, 0
			closing := t.closing
			t.mu.Unlock()
			if len(q) == 0 {
				if closing {
					t.c.Close()
					return
				}
				break
			}
			_ = t.c.SetWriteDeadline(time.Now().Add(t.timeout))
			nb := net.Buffers(q)
			if _, err := nb.WriteTo(t.c); err != nil {
				t.c.Close() // the reader goroutine sees it and ends the session
				return
			}
		}
	}
}

func (t *tlsTransport) RemoteAddr() net.Addr { return t.c.RemoteAddr() }

// tlsCloseGrace bounds how long a closing TLS connection may take to
// write its last frames (e.g. /disconnect) before it is closed anyway.
const tlsCloseGrace = time.Second

// Close stops accepting writes and closes the connection once the queued
// frames are written (the final /disconnect or /auth/failed must reach the
// peer), or after tlsCloseGrace.
func (t *tlsTransport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed, t.closing = true, true
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
	t.timers.after(tlsCloseGrace, func() { t.c.Close() })
	return nil
}

// readTLS is a TLS connection's reader goroutine; it exits when the
// connection closes (by the peer, a deadline, or the server), after
// stopping the writer.
func (srv *Server) readTLS(s *Session, t *tlsTransport) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { t.writeLoop(done) })
	c := t.c
	_ = c.SetReadDeadline(time.Now().Add(srv.cfg.AuthTimeout))
	err := c.Handshake()
	_ = c.SetReadDeadline(time.Time{})
	if err == nil {
		buf := make([]byte, 4096)
		for {
			var n int
			n, err = c.Read(buf)
			if n > 0 {
				s.onData(buf[:n])
			}
			if err != nil {
				break
			}
		}
	}
	t.Close()
	t.c.Close() // the reader is done: nothing more will be written that matters
	close(done)
	wg.Wait()
	if t.overflowed() {
		err = errTLSOverflow
	}
	srv.closed(s, err)
}

func (t *tlsTransport) overflowed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.over
}
