package server

import (
	"sync"
	"sync/atomic"

	"github.com/plexpush/plex/pack"
)

// Push clients' frames run off the event loop when the Store does I/O.
//
// A persistent push is stored before it is delivered; with package
// cluster's store that is a JetStream round trip, and with NATS slow or
// away it can take seconds. Run on the poller, it would stall every
// connection the poller serves (their heartbeats unanswered, their pushes
// unwritten). So once a push client authenticated on a node whose store is
// not local, its bytes are queued and a goroutine of its own decodes and
// runs them, in order; the poller only appends. Push clients are few (one
// connection per PlexClient and node), so this costs a goroutine per busy
// push connection, never one per app.

// offloaded is a push client's queue of received bytes, and its pushes
// in flight (accepted, not answered yet: pipelined persistent pushes).
type offloaded struct {
	mu       sync.Mutex
	data     []byte
	running  bool
	inflight atomic.Int64
}

// noop ends a push that nothing waits for.
func noop() {}

// pushBegun counts a push of s in flight until the returned func runs
// (after its answer is queued), so that Shutdown answers it before it
// closes s (drainClose).
func (srv *Server) pushBegun(s *Session) func() {
	v, ok := srv.offloads.Load(s)
	if !ok {
		return noop // not offloaded: the push completes before the read does
	}
	q := v.(*offloaded)
	q.inflight.Add(1)
	return func() { q.inflight.Add(-1) }
}

// pushesDone reports whether s has no push in flight.
func (srv *Server) pushesDone(s *Session) bool {
	v, ok := srv.offloads.Load(s)
	return !ok || v.(*offloaded).inflight.Load() == 0
}

// offload queues data for s's worker, starting it if idle. It reports
// false when s is not offloaded (the caller handles data on the poller).
func (srv *Server) offload(s *Session, data []byte) bool {
	if srv.storeLocal || s.state.Load() != stateInner {
		return false
	}
	v, _ := srv.offloads.LoadOrStore(s, &offloaded{})
	q := v.(*offloaded)
	q.mu.Lock()
	if len(q.data)+len(data) > srv.offloadLimit() {
		q.mu.Unlock()
		srv.log.Warn("push client closed: the store is too slow for its pushes", "conn", s.id, "queued", len(q.data))
		s.closeAnswered(pack.CodeInternal, "the node's store is behind; retry later")
		return true
	}
	q.data = append(q.data, data...)
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		srv.authWG.Add(1)
		go srv.work(s, q)
	}
	return true
}

// offloadLimit bounds the bytes a push client may have queued: beyond it
// the node closes the connection with 3005 (reconnect later) rather than
// buffer without bound while its store is slow or away. The push client
// reports the unanswered pushes as of unknown outcome, never as sent.
func (srv *Server) offloadLimit() int { return max(16<<20, 4*srv.cfg.MaxFrame) }

// work feeds s's queued bytes to its decoder and runs the frames, until
// the queue is empty.
func (srv *Server) work(s *Session, q *offloaded) {
	defer srv.authWG.Done()
	for {
		q.mu.Lock()
		data := q.data
		q.data = nil
		if len(data) == 0 || s.closed.Load() {
			q.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		s.inMu.Lock()
		if !s.closed.Load() && s.closeCode.Load() == 0 {
			s.dec.Feed(data)
			s.drain()
		}
		s.inMu.Unlock()
	}
}
