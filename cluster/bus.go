package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"

	"github.com/plexpush/plex/server"
)

// Bus is the node's server.Bus on core NATS (see the package doc for the
// subjects and guarantees). The server calls Register once and Close at
// the end; every other method is safe for concurrent use.
//
// Goroutines, each started by Register and ended by Close: the dispatcher
// (every delivery, in arrival order), the heartbeat loop, the room
// membership watcher, the catch-up worker, and the connection-status
// watcher.
type Bus struct {
	c    *Cluster
	node *server.BusNode

	nodeID  string
	deliver func(server.Delivery) int

	in chan *nats.Msg // deliveries and presence queries of every subscription

	mu      sync.Mutex
	started bool
	closed  bool
	users   map[string]*nats.Subscription // uid → its subscription while held
	fixed   []*nats.Subscription          // rooms, broadcast, heartbeats

	status  chan nats.Status // connection status listener (Start)
	reg     registry
	rooms   roomMirror
	catchup catchup
	reach   reaches      // answers to pushes to one user (reach.go)
	lost    atomic.Int64 // deliveries dropped by a full queue (slow consumer)

	stop   chan struct{}
	cancel context.CancelFunc // cancels the loops' context (Close)
	wg     sync.WaitGroup
}

// inQueue bounds the deliveries waiting for the dispatcher; NATS drops
// beyond it (slow consumer), and the node then re-reads every held user's
// stored pushes, so only transient pushes can be lost that way.
const inQueue = 1 << 16

func newBus(c *Cluster) *Bus {
	b := &Bus{
		c:     c,
		in:    make(chan *nats.Msg, inQueue),
		users: make(map[string]*nats.Subscription),
		stop:  make(chan struct{}),
	}
	b.reg.init(b)
	b.rooms.init(b)
	b.catchup.init(b)
	b.reach.b = b
	return b
}

// Register implements server.Bus: it takes the node, subscribes to room
// pushes, broadcasts and heartbeats and starts the background loops. It
// does not wait for NATS: while NATS is unreachable it returns nil and
// Health reports why.
func (b *Bus) Register(n *server.BusNode) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if b.started {
		return errors.New("cluster: Bus registered twice (a Cluster serves one server)")
	}
	b.started, b.node, b.nodeID, b.deliver = true, n, n.ID(), n.Deliver
	nc := b.c.nc
	routed := []string{b.c.names.room + "*", b.c.names.all}
	if b.c.cfg.Standalone {
		routed = nil // no other node publishes
	}
	for _, subj := range routed {
		sub, err := nc.ChanSubscribe(subj, b.in)
		if err != nil {
			b.unsubscribeAllLocked()
			return fmt.Errorf("cluster: subscribe %s: %w", subj, err)
		}
		b.fixed = append(b.fixed, sub)
	}
	hb, err := nc.Subscribe(b.c.names.nodes, b.reg.receive)
	if err != nil {
		b.unsubscribeAllLocked()
		return fmt.Errorf("cluster: subscribe %s: %w", b.c.names.nodes, err)
	}
	b.fixed = append(b.fixed, hb)
	b.watchSlowConsumer()
	b.status = nc.StatusChanged(nats.CONNECTED, nats.CLOSED)
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.wg.Go(b.dispatch)
	b.wg.Go(func() { b.reg.run(ctx) })
	b.wg.Go(func() { b.rooms.run(ctx) })
	b.wg.Go(func() { b.catchup.run(ctx) })
	b.wg.Go(b.watchStatus)
	return nil
}

// Close implements server.Bus: it says goodbye to the other nodes (they
// stop naming this node at once), unsubscribes and stops every goroutine.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	started := b.started
	b.unsubscribeAllLocked()
	b.mu.Unlock()
	if !started {
		return nil
	}
	b.reg.bye()
	close(b.stop)
	b.cancel()
	b.c.nc.RemoveStatusListener(b.status)
	b.wg.Wait()
	if b.reach.sub != nil {
		_ = b.reach.sub.Unsubscribe()
	}
	b.reach.close()
	return nil
}

func (b *Bus) unsubscribeAllLocked() {
	for _, s := range b.fixed {
		_ = s.Unsubscribe()
	}
	b.fixed = nil
	for uid, s := range b.users {
		_ = s.Unsubscribe()
		delete(b.users, uid)
	}
}

// Publish implements server.Bus. A push to a user goes to the user's
// subject (reaching only the nodes that hold the user), a room push and a
// broadcast to the subject every node listens on. While NATS is
// unreachable a transient push fails with ErrUnavailable; a persistent one
// is stored already, so it is queued in the connection's reconnect buffer
// and the user's holders are told to re-read the store after reconnect.
// A push to one user with reach set carries a reply subject: the first
// holder's answer, or NATS's "no responders", becomes its Reach (reach.go).
func (b *Bus) Publish(_ context.Context, d server.Delivery, reach func(server.Reach)) error {
	if b.isClosed() {
		return ErrClosed
	}
	if b.c.cfg.Standalone {
		if reach != nil {
			reach(server.Reach{}) // no other node
		}
		return nil
	}
	if err := checkTarget(&d.To); err != nil {
		return err
	}
	switch {
	case d.To.UID != "" && reach != nil:
		reply := b.reach.add(d.To.UID, reach)
		err := b.publishMsg(b.c.names.user+key(d.To.UID), reply, &d)
		if err != nil && reply != "" {
			b.reach.cancel(reply)
		}
		return err
	case d.To.UID != "":
		return b.publish(b.c.names.user+key(d.To.UID), &d)
	case len(d.To.UIDs) > 0:
		one := d
		for _, uid := range d.To.UIDs {
			one.To.UIDs, one.To.UID = nil, uid
			if err := b.publish(b.c.names.user+key(uid), &one); err != nil {
				return err
			}
		}
		return nil
	case d.To.Room != "":
		return b.publish(b.c.names.room+key(d.To.Room), &d)
	case d.To.All:
		return b.publish(b.c.names.all, &d)
	}
	return server.ErrBadTarget
}

// checkTarget refuses a delivery naming a uid or room too long for a
// subject (checkName), before any of it is published.
func checkTarget(to *server.Target) error {
	if err := checkName(to.UID); err != nil {
		return err
	}
	for _, uid := range to.UIDs {
		if err := checkName(uid); err != nil {
			return err
		}
	}
	return checkName(to.Room)
}

func (b *Bus) publish(subject string, d *server.Delivery) error {
	return b.publishMsg(subject, "", d)
}

// publishMsg publishes d on subject, with a reply subject when reply is set.
func (b *Bus) publishMsg(subject, reply string, d *server.Delivery) error {
	nc := b.c.nc
	if st := nc.Status(); st != nats.CONNECTED && !d.Persist {
		return fmt.Errorf("%w: connection %s", ErrUnavailable, st)
	}
	data, err := appendEnvelope(nil, d)
	if err != nil {
		return err
	}
	if err := nc.PublishMsg(&nats.Msg{Subject: subject, Reply: reply, Data: data}); err != nil {
		if d.Persist && d.To.UID != "" {
			b.catchup.announceLater(d.To.UID)
		}
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if d.Persist && nc.Status() != nats.CONNECTED {
		// buffered until reconnect; holders that miss it meanwhile get a
		// re-read hint after reconnect
		b.catchup.announceLater(d.To.UID)
	}
	return nil
}

// Subscribe implements server.Bus: the node holds uid from now on. The
// subscription is registered asynchronously; the catch-up worker then
// re-reads the user's last stored push so that one stored while the
// subscription was on its way is not missed.
func (b *Bus) Subscribe(uid string) error {
	if b.c.cfg.Standalone {
		return nil
	}
	if err := checkName(uid); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if b.users[uid] != nil {
		return nil
	}
	sub, err := b.c.nc.ChanSubscribe(b.c.names.user+key(uid), b.in)
	if err != nil {
		return fmt.Errorf("cluster: subscribe user: %w", err)
	}
	b.users[uid] = sub
	b.catchup.add(uid)
	return nil
}

// Unsubscribe implements server.Bus: the node no longer holds uid.
func (b *Bus) Unsubscribe(uid string) error {
	b.mu.Lock()
	sub := b.users[uid]
	delete(b.users, uid)
	b.mu.Unlock()
	if sub == nil {
		return nil
	}
	return sub.Unsubscribe()
}

// holds reports whether this node holds uid.
func (b *Bus) holds(uid string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.users[uid] != nil
}

// held returns every uid this node holds.
func (b *Bus) held() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]string, 0, len(b.users))
	for uid := range b.users {
		out = append(out, uid)
	}
	return out
}

func (b *Bus) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// dispatch hands every message of the delivery subscriptions to the
// server, one at a time in arrival order (NATS keeps each publisher's
// order per subject).
func (b *Bus) dispatch() {
	for {
		select {
		case <-b.stop:
			return
		case m := <-b.in:
			b.handle(m)
			if len(b.in) == 0 {
				b.reach.flush() // the answers of everything handled so far
			}
		}
	}
}

func (b *Bus) handle(m *nats.Msg) {
	if m.Header.Get(hdrOp) == opWho {
		b.answerWho(m)
		return
	}
	var d server.Delivery
	if err := decodeEnvelope(m.Data, &d); err != nil {
		b.c.log.Warn("cluster: dropped a message", "subject", m.Subject, "err", err)
		return
	}
	if d.Origin == b.nodeID {
		return // our own, already written here (and never asked: reach.go)
	}
	if d.Persist && d.Msg.Seq > 0 {
		b.c.store.seen(uint64(d.Msg.Seq)) // acks up to it need no stream lookup
	}
	n := b.deliver(d)
	if m.Reply != "" {
		b.reach.answerLater(m.Reply, n)
	}
}

// Health implements server.Bus: nil once NATS is connected and
// room membership is loaded, so that pushes are routed (what a load
// balancer needs of a node); StoreHealth says whether pushes can also be
// stored now.
func (b *Bus) Health() error {
	if b.isClosed() {
		return ErrClosed
	}
	if err := b.c.connHealth(); err != nil {
		return err
	}
	if !b.rooms.loaded.Load() {
		return fmt.Errorf("%w: room membership not loaded yet", ErrUnavailable)
	}
	return nil
}

// StoreHealth implements server.Bus: nil when a persistent push
// would be stored now: NATS connected, the stream and buckets open, and the
// stream has a leader (JetStream has a quorum). It follows the node's
// probe of the stream, once per heartbeat.
func (b *Bus) StoreHealth() error {
	if b.isClosed() {
		return ErrClosed
	}
	return b.c.health()
}

// MemberChanged implements server.Bus.
func (b *Bus) MemberChanged(room, uid string, member bool) { b.rooms.changed(room, uid, member) }

// Resync implements server.Bus: uid's last stored push is
// delivered again after a short delay.
func (b *Bus) Resync(uid string) { b.catchup.addLater(uid) }

// watchStatus re-reads every held user's stored pushes after a reconnect:
// deliveries published while this node's subscriptions were gone are lost
// on core NATS, the stored ones are not.
func (b *Bus) watchStatus() {
	for {
		select {
		case <-b.stop:
			return
		case st, ok := <-b.status:
			if !ok {
				return
			}
			if st == nats.CLOSED { // the owner closes it only after the Bus
				b.c.log.Error("cluster: NATS connection closed for good; the node cannot route or store pushes until it restarts",
					"err", b.c.nc.LastError())
				continue
			}
			b.c.log.Info("cluster: NATS connected; catching up stored pushes of held users")
			b.rooms.connected()
			for _, uid := range b.held() {
				b.catchup.add(uid)
			}
			b.catchup.announcePending()
		}
	}
}

// watchSlowConsumer chains the connection's error handler: when NATS
// drops deliveries because the dispatcher fell behind, every held user's
// stored pushes are re-read.
func (b *Bus) watchSlowConsumer() {
	nc := b.c.nc
	prev := nc.ErrorHandler()
	nc.SetErrorHandler(func(c *nats.Conn, s *nats.Subscription, err error) {
		if errors.Is(err, nats.ErrSlowConsumer) && !b.isClosed() && b.ours(s) {
			b.lost.Add(1)
			b.c.log.Warn("cluster: deliveries dropped (slow consumer); catching up stored pushes")
			for _, uid := range b.held() {
				b.catchup.add(uid)
			}
		}
		if prev != nil {
			prev(c, s, err)
		}
	})
}

// ours reports whether s delivers into the dispatcher's queue.
func (b *Bus) ours(s *nats.Subscription) bool {
	if s == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, f := range b.fixed {
		if f == s {
			return true
		}
	}
	if tok, ok := tail(s.Subject, b.c.names.user); ok {
		uid, _ := unkey(tok)
		return b.users[uid] == s
	}
	return false
}
