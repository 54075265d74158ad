package cluster

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/plexpush/plex/server"
)

// catchup closes the windows in which core NATS can lose a persistent
// delivery that JetStream did store:
//
//   - a login: the user's subscription is registered asynchronously, so a
//     push stored between the login's replay and the subscription reaching
//     the NATS servers is not routed here;
//   - a reconnect of this node, or deliveries dropped by a full queue:
//     everything published to this node meanwhile is gone;
//   - a node that stored a push while its own connection was down: its
//     publish waits in the reconnect buffer, or failed.
//
// In each case the node re-reads the user's LAST stored push and delivers
// it like any other persistent delivery, with its predecessor (the
// Plex-Prev header): the node writes it only if it is new, and first
// fetches from the store whatever it missed before it. So one read per
// user recovers everything, whatever was lost. For the third case the
// storing node publishes that last push to the user's subject once it is
// connected again (announce), for the nodes holding the user.
type catchup struct {
	b *Bus

	mu       sync.Mutex
	now      map[string]struct{}  // held users to re-read
	later    map[string]time.Time // re-read at a time (after a failure)
	announce map[string]struct{}  // users to announce once connected
	wake     chan struct{}
}

// maxAnnounce bounds the users remembered for announcing; beyond it the
// oldest hint is lost (its push still reaches the app with the next push
// to the user or on reconnect).
const maxAnnounce = 100_000

func (c *catchup) init(b *Bus) {
	c.b = b
	c.now = make(map[string]struct{})
	c.later = make(map[string]time.Time)
	c.announce = make(map[string]struct{})
	c.wake = make(chan struct{}, 1)
}

func (c *catchup) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// add queues uid for a re-read now.
func (c *catchup) add(uid string) {
	c.mu.Lock()
	c.now[uid] = struct{}{}
	c.mu.Unlock()
	c.signal()
}

// addLater queues uid for a re-read in a second.
func (c *catchup) addLater(uid string) {
	c.mu.Lock()
	if _, ok := c.later[uid]; !ok {
		c.later[uid] = time.Now().Add(time.Second)
	}
	c.mu.Unlock()
	c.signal()
}

// announceLater remembers that uid's last stored push may not have reached
// its holders.
func (c *catchup) announceLater(uid string) {
	c.mu.Lock()
	if len(c.announce) < maxAnnounce {
		c.announce[uid] = struct{}{}
	}
	c.mu.Unlock()
}

// announcePending wakes the worker to announce (after a reconnect).
func (c *catchup) announcePending() { c.signal() }

func (c *catchup) run(ctx context.Context) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		case <-tick.C:
		}
		c.round(ctx)
	}
}

// round re-reads the queued users and announces what is pending.
func (c *catchup) round(ctx context.Context) {
	now := time.Now()
	c.mu.Lock()
	var users, hints []string
	for uid := range c.now {
		users = append(users, uid)
	}
	clear(c.now)
	for uid, at := range c.later {
		if !at.After(now) {
			users = append(users, uid)
			delete(c.later, uid)
		}
	}
	connected := c.b.c.nc.IsConnected()
	if connected {
		for uid := range c.announce {
			hints = append(hints, uid)
		}
		clear(c.announce)
	}
	c.mu.Unlock()
	if len(users) == 0 && len(hints) == 0 {
		return
	}
	if err := c.b.c.open(ctx); err != nil {
		c.retry(users, hints)
		return
	}
	// Our SUBs reach our server before the reads below: a push stored after
	// a read is then routed here.
	fctx, cancel := context.WithTimeout(ctx, c.b.c.cfg.RequestTimeout)
	_ = c.b.c.nc.FlushWithContext(fctx)
	cancel()
	for i, uid := range users {
		if ctx.Err() != nil {
			return
		}
		if !c.b.holds(uid) {
			continue
		}
		d, ok, err := c.last(ctx, uid)
		if err != nil {
			c.b.c.log.Warn("cluster: catch up stored pushes", "err", err)
			c.retry(users[i:], hints)
			return
		}
		if ok {
			c.b.deliver(d)
		}
	}
	for i, uid := range hints {
		d, ok, err := c.last(ctx, uid)
		if err != nil {
			c.retry(nil, hints[i:])
			return
		}
		if !ok {
			continue
		}
		d.Origin = c.b.nodeID // our own: holders here already have it
		data, err := appendEnvelope(nil, &d)
		if err == nil {
			err = c.b.c.nc.Publish(c.b.c.names.user+key(uid), data)
		}
		if err != nil {
			c.retry(nil, hints[i:])
			return
		}
	}
}

func (c *catchup) retry(users, hints []string) {
	at := time.Now().Add(time.Second)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, uid := range users {
		if _, ok := c.later[uid]; !ok {
			c.later[uid] = at
		}
	}
	for _, uid := range hints {
		if len(c.announce) < maxAnnounce {
			c.announce[uid] = struct{}{}
		}
	}
}

// last reads uid's last stored push as a persistent delivery.
func (c *catchup) last(ctx context.Context, uid string) (server.Delivery, bool, error) {
	rctx, cancel := context.WithTimeout(ctx, c.b.c.cfg.RequestTimeout)
	defer cancel()
	raw, err := c.b.c.stream.GetLastMsgForSubject(rctx, c.b.c.names.msgs+key(uid))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return server.Delivery{}, false, nil
	}
	if err != nil {
		return server.Delivery{}, false, err
	}
	m, prev, err := storedMessage(raw)
	if err != nil {
		c.b.c.log.Warn("cluster: undecodable stored push", "seq", raw.Sequence, "err", err)
		return server.Delivery{}, false, nil
	}
	return server.Delivery{To: server.User(uid), Msg: m, Persist: true, Prev: prev}, true, nil
}
