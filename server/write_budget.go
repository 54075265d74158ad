package server

import (
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lesismal/nbio"

	"github.com/plexpush/plex/pack"
)

// The node-wide write budget. Each connection's output waiting in the
// event loop (written to nbio, not yet taken by the socket) is bounded by
// WriteQueueBytes; this bounds the sum over all connections, so that many
// non-reading peers and a few large broadcasts cannot take the node's
// memory (100 such peers held 400 MB at the 4 MiB per-connection bound).
//
// Bytes are counted per session (Session.outQueued) as they are handed to
// nbio and uncounted as nbio reports them written (OnWrittenSize); the
// node's sum (writeBudget.queued) is kept alongside and is only a trigger:
// when it passes the budget, the budget goroutine sums the sessions
// exactly and closes the connections with the most output queued (the
// slowest consumers) until the sum is under 90% of the budget, each as a
// slow consumer (3002: its output is over its bound, so no final frame).
// TLS and blocking WebSocket connections queue in their own writers,
// bounded per connection, and are not counted.
type writeBudget struct {
	limit  int64
	queued atomic.Int64
	kick   chan struct{}
}

func newWriteBudget(c *Config) *writeBudget {
	if c.WriteBudgetBytes < 0 {
		return nil
	}
	return &writeBudget{limit: c.WriteBudgetBytes, kick: make(chan struct{}, 1)}
}

// handed counts n bytes of s handed to nbio.
func (b *writeBudget) handed(s *Session, n int) {
	if b == nil {
		return
	}
	s.outQueued.Add(int32(n))
	if b.queued.Add(int64(n)) > b.limit {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
}

// written uncounts n bytes of s that nbio wrote to the socket.
func (b *writeBudget) written(s *Session, n int) {
	if b == nil {
		return
	}
	s.outQueued.Add(-int32(n))
	b.queued.Add(-int64(n))
}

// gone uncounts what a closed session still had queued.
func (b *writeBudget) gone(s *Session) {
	if b == nil {
		return
	}
	b.queued.Add(-int64(s.outQueued.Swap(0)))
}

// run enforces the budget until stop is closed.
func (b *writeBudget) run(srv *Server, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-b.kick:
		}
		srv.enforceWriteBudget()
		// at most one scan per 10ms: a flood of writes costs one scan of
		// the sessions per tick, not one per write
		select {
		case <-stop:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// enforceWriteBudget closes the connections with the most output queued
// until the node's total is under 90% of the budget.
func (srv *Server) enforceWriteBudget() {
	b := srv.budget
	type queued struct {
		s *Session
		n int64
	}
	srv.mu.Lock()
	var all []queued
	var sum int64
	for s := srv.sessions.head; s != nil; s = s.next {
		if n := int64(s.outQueued.Load()); n > 0 && s.finalCode() == 0 { // closing ones free theirs soon
			all = append(all, queued{s, n})
			sum += n
		}
	}
	srv.mu.Unlock()
	b.queued.Store(sum) // the exact sum: no drift survives a scan
	if sum <= b.limit {
		return
	}
	slices.SortFunc(all, func(x, y queued) int { return int(min(max(y.n-x.n, -1), 1)) })
	target := b.limit / 10 * 9
	for _, q := range all {
		if sum <= target {
			break
		}
		sum -= q.n
		if q.s.dropSlow() {
			srv.metrics.budgetDrops.Inc()
			srv.log.Warn("write budget: slowest consumer closed", "conn", q.s.id, "uid", q.s.uid, "queued", q.n, "budget", b.limit)
		}
	}
}

// dropSlow closes s as a slow consumer (3002), without a final frame:
// its output is what is over the bound. The socket is shut down and its
// poller closes it (never closed from here: see lingerClose). It reports
// false when s was closing already.
func (s *Session) dropSlow() bool {
	s.outMu.Lock()
	ok := s.setFinal(pack.CodeSlowConsumer)
	s.outMu.Unlock()
	if !ok {
		return false // closing already
	}
	s.srv.metrics.closes.WithLabelValues(codeLabel(pack.CodeSlowConsumer)).Inc()
	switch tr := s.tr.(type) {
	case *nbio.Conn:
		s.shutdownFD(tr, syscall.SHUT_RDWR)
	case *wsConn:
		if tr.nb != nil {
			s.shutdownFD(tr.nb, syscall.SHUT_RDWR)
			return true
		}
		_ = tr.Close()
	default:
		_ = s.tr.Close()
	}
	return true
}
