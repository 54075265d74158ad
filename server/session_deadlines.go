package server

import (
	"sync"
	"time"

	"github.com/plexpush/plex/pack"
)

// wheel is a hashed timing wheel for every connection's deadlines (auth
// timeout, heartbeat timeout). A connection costs one pointer in one slot:
// no timer, no goroutine. Reads only store a timestamp (Session.lastRead);
// the wheel visits each connection about once per timeout, closes it if its
// deadline passed, or re-files it under its new deadline. One goroutine
// ticks the wheel for the whole server.
type wheel struct {
	mu    sync.Mutex
	tick  time.Duration
	slots [][]*Session
	pos   int
	now   time.Time // time of the last tick
}

func newWheel(tick, span time.Duration) *wheel {
	n := int(span/tick) + 2
	return &wheel{tick: tick, slots: make([][]*Session, n), now: time.Now()}
}

// wheelTick picks the resolution: deadlines are enforced within one tick
// late, and a tick costs a lock and a slot scan.
func wheelTick(c *Config) time.Duration {
	t := min(c.AuthTimeout, c.HeartbeatTimeout) / 8
	return max(10*time.Millisecond, min(t, time.Second))
}

// add files s to be checked at deadline.
func (w *wheel) add(s *Session, deadline time.Time) {
	w.mu.Lock()
	d := deadline.Sub(w.now)
	k := int((d + w.tick - 1) / w.tick)
	k = max(1, min(k, len(w.slots)-1))
	i := (w.pos + k) % len(w.slots)
	w.slots[i] = append(w.slots[i], s)
	w.mu.Unlock()
}

// run ticks until stop is closed.
func (w *wheel) run(stop <-chan struct{}, check func(s *Session, now time.Time) (next time.Time, keep bool)) {
	t := time.NewTicker(w.tick)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			w.mu.Lock()
			w.pos = (w.pos + 1) % len(w.slots)
			due := w.slots[w.pos]
			w.slots[w.pos] = nil
			w.now = now
			w.mu.Unlock()
			for _, s := range due {
				if next, keep := check(s, now); keep {
					w.add(s, next)
				}
			}
		}
	}
}

// checkDeadline is the wheel's check: auth timeout before auth, heartbeat
// timeout after. It returns the next time to look at s.
func (srv *Server) checkDeadline(s *Session, now time.Time) (time.Time, bool) {
	if s.closed.Load() {
		return time.Time{}, false
	}
	switch s.state.Load() {
	case stateNew, stateAuthing:
		deadline := time.Unix(0, s.accepted).Add(srv.cfg.AuthTimeout)
		if !now.Before(deadline) {
			srv.metrics.timeouts.WithLabelValues("auth").Inc()
			s.closeFrame(pack.URIDisconnect, pack.CodeAuthTimeout, "no auth within "+srv.cfg.AuthTimeout.String())
			return time.Time{}, false
		}
		// look again no later than a heartbeat timeout from now, so that a
		// connection that authenticates meanwhile gets its heartbeat deadline
		return minTime(deadline, now.Add(srv.cfg.HeartbeatTimeout)), true
	default:
		timeout := s.heartbeatTimeout()
		deadline := time.Unix(0, s.lastRead.Load()).Add(timeout)
		if !now.Before(deadline) {
			srv.metrics.timeouts.WithLabelValues("heartbeat").Inc()
			s.closeAnswered(pack.CodeHeartbeatTimeout, "nothing received for "+timeout.String())
			return time.Time{}, false
		}
		return deadline, true
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
