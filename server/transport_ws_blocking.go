package server

import (
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/lesismal/nbio"

	"github.com/plexpush/plex/pack"
)

// wsBlocking is the socket of a WebSocket that cannot join the event loop
// (crypto/tls needs blocking reads and writes: the handler was mounted on
// the embedder's https server). Its reader is wsConn.readLoop; writes go
// to a bounded queue drained by a writer goroutine that runs only while
// there is something to write, so an idle connection holds only its reader.
// A peer that lets more than Config.WriteQueueBytes pile up is a slow
// consumer (3002), as on every transport.
type wsBlocking struct {
	c        *timedConn
	maxBytes int
	wg       sync.WaitGroup // the writer

	mu      sync.Mutex
	queue   [][]byte
	bytes   int
	writing bool // a writer goroutine is running
	closed  bool // no more writes accepted
	over    bool // closed because the queue overflowed
}

var errWSOverflow = fmt.Errorf("server: websocket write queue overflow: %w", nbio.ErrOverflow)

func newWSBlocking(c net.Conn, maxBytes int, timeout time.Duration) *wsBlocking {
	_ = c.SetDeadline(time.Time{}) // the http.Server's deadlines do not apply any more
	return &wsBlocking{c: &timedConn{Conn: c, timeout: timeout}, maxBytes: maxBytes}
}

// timedConn bounds every write by Config.WriteTimeout: a peer that does not
// read cannot hold the writer for longer.
type timedConn struct {
	net.Conn
	timeout time.Duration
}

func (c *timedConn) Write(b []byte) (int, error) {
	_ = c.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.Conn.Write(b)
}

// write queues the frames as WebSocket messages in one contiguous buffer:
// a TLS conn encrypts each Write as a unit, and a control frame of the
// node's never lands inside a message.
func (b *wsBlocking) write(frames [][]byte, op byte) (int, error) {
	n := 0
	for _, f := range frames {
		n += wsMaxHeader + len(f) - pack.HeaderSize
	}
	buf := make([]byte, 0, n)
	for _, f := range frames {
		buf = appendWSHeader(buf, op, len(f)-pack.HeaderSize)
		buf = append(buf, f[pack.HeaderSize:]...)
	}
	if err := b.enqueue(buf); err != nil {
		return 0, err
	}
	return len(buf), nil
}

// enqueue queues WebSocket bytes for the writer.
func (b *wsBlocking) enqueue(buf []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return net.ErrClosed
	}
	if b.bytes+len(buf) > b.maxBytes {
		b.over, b.closed = true, true
		b.c.Close() // the reader sees it and ends the session
		return errWSOverflow
	}
	b.queue = append(b.queue, buf)
	b.bytes += len(buf)
	if !b.writing {
		b.writing = true
		b.wg.Go(b.writeLoop)
	}
	return nil
}

// writeLoop writes the queue until it is empty, then exits.
func (b *wsBlocking) writeLoop() {
	for {
		b.mu.Lock()
		q := b.queue
		b.queue, b.bytes = nil, 0
		if len(q) == 0 {
			b.writing = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		for _, buf := range q {
			if _, err := b.c.Write(buf); err != nil {
				b.c.Close() // the reader sees it and ends the session
				b.mu.Lock()
				b.writing, b.closed, b.queue = false, true, nil
				b.mu.Unlock()
				return
			}
		}
	}
}

// stop refuses further writes, so that no writer starts after the
// reader's Wait.
func (b *wsBlocking) stop() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
}

func (b *wsBlocking) overflowed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.over
}
