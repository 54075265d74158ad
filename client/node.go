package client

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexpush/plex/pack"
)

// node is a PlexClient's connection to one node address, redialled with
// backoff for the client's lifetime. Its run goroutine dials, supervises
// the link (stall detection) and settles what a dead link held.
type node struct {
	c    *PlexClient
	addr string // "": ask the discovery URL before each attempt
	log  *slog.Logger
	cur  atomic.Pointer[link] // the connected link; nil while (re)connecting

	mu    sync.Mutex
	last  error // the last connection error
	fatal error // a terminal error: the node is not redialled
}

// run connects and reconnects until the client closes or the node refuses
// the client for good (4xxx: wrong secret).
func (n *node) run(ctx context.Context) {
	c := n.c
	attempt := 0
	for {
		healthy, err := n.once(ctx)
		select {
		case <-c.closed:
			return
		default:
		}
		if terminal(err) {
			err = terminalError(err)
			n.mu.Lock()
			n.fatal, n.last = err, err
			n.mu.Unlock()
			n.log.Error("node refused the push client; not reconnecting", "err", err)
			c.notify()
			return
		}
		n.mu.Lock()
		n.last = err
		n.mu.Unlock()
		if healthy {
			attempt = 0
		}
		d := c.cfg.Backoff.delay(attempt)
		attempt++
		n.log.Warn("node connection failed; reconnecting", "err", err, "backoff", d)
		if !sleep(d, c.closed) {
			return
		}
	}
}

// once makes one connection and serves it until it dies. healthy reports
// whether the connection was healthy (Backoff.healthy; a stall never is):
// only then does the backoff start over.
func (n *node) once(ctx context.Context) (healthy bool, err error) {
	c := n.c
	addr := n.addr
	if addr == "" {
		if addr, err = discover(ctx, c.hc, c.disc); err != nil {
			return false, err
		}
	}
	auth := &pack.Message{URI: pack.URIInnerAuth, Body: []byte(c.cfg.Secret)}
	nc, r, info, err := handshake(ctx, addr, c.cfg.DialTimeout, c.wire, auth)
	if err != nil {
		return false, err
	}
	l := newLink(nc, r, c.wire, info, &c.stats)
	l.maxLoad = c.cfg.MaxPending
	l.onFrame = func(m *pack.Message) error { return n.onFrame(l, m) }
	up := time.Now()
	l.start()
	n.cur.Store(l)
	n.log.Info("connected to node", "node", info.Node, "remote", addr, "heartbeat", l.heartbeat())
	c.notify()

	// A quarter of the timeout: a stall is noticed at most 25% late (and
	// silence, silence.go, within a third of silentAfter).
	tick := time.NewTicker(max(min(c.cfg.RequestTimeout/4, silentAfter/3), 10*time.Millisecond))
	defer tick.Stop()
	for !l.isDead() {
		select {
		case <-l.stop:
		case <-c.closed:
			l.kill(ErrClosed)
		case now := <-tick.C:
			if l.stalled(now, c.cfg.RequestTimeout) {
				l.kill(errStalled)
				continue
			}
			if l.silentFor(now) >= min(silentDead, c.cfg.RequestTimeout) {
				l.kill(errSilent)
				continue
			}
			if changed, suspect := l.watchSilence(now); changed {
				if suspect {
					n.log.Warn("node silent; new pushes go to the other nodes", "node", info.Node, "remote", addr, "silent", l.silentFor(now).Round(time.Millisecond))
				} else {
					n.log.Info("node answers again", "node", info.Node, "remote", addr)
				}
				c.notify()
			}
		}
	}
	n.cur.Store(nil)
	err = l.wait()
	return !errors.Is(err, errStalled) && !errors.Is(err, errSilent) && c.cfg.Backoff.healthy(l.received.Load(), time.Since(up)), err
}

// onFrame handles a frame from the node (reader goroutine).
func (n *node) onFrame(l *link, m *pack.Message) error {
	switch m.URI {
	case pack.URIReply, pack.URIError:
		if m.Seq != 0 {
			l.complete(m.Seq, reply{msg: m})
			return nil
		}
		n.log.Warn("node reported an error for no request", "err", pack.ErrorOf(m))
	case pack.URIDisconnect, pack.URIAuthFailed:
		return pack.ErrorOf(m)
	default:
		n.log.Debug("ignoring frame from node", "uri", m.URI)
	}
	return nil
}
