package server

import (
	"context"
	"sync"

	"github.com/plexpush/plex/pack"
)

// clusterLink is the node's half of the cluster contract (Server.link, nil
// for a single node), around Config.Bus:
//
//   - Persistent pushes reach a user's connections in seq order. Seqs are
//     taken under the user's order lock of the node that accepted the push,
//     but pushes from different nodes reach a node holding the user in any
//     order, and an app drops a seq at or below the highest it holds. So a
//     node remembers per user the highest seq it wrote to every local
//     connection (last), writes a message only when its predecessor
//     (Delivery.Prev) is at or below last, and otherwise first fetches what
//     it missed from the Store. A message at or below last is a duplicate
//     and is not written again.
//   - Unsubscribe (the user's last connection here closed) forgets that
//     state; room membership changes made here go to the bus; the bus
//     applies other nodes' through BusNode.
//
// A user's state is kept only when it differs from the zero state (last 0,
// no connection ahead), and absent means exactly that: it is not "unknown"
// (no guess from a message's predecessor), since every login records its
// replay (replayed) before any push can be written to it. So a user whose
// connections hold no stored push, most users of an idle node, costs
// nothing here; one who got a stored push costs one map entry (uid → last).
//
// Concurrency: a user's state is read and written only under the user's
// order lock; the shard mutex guards the maps themselves.
type clusterLink struct {
	bus  Bus
	srv  *Server
	node *BusNode

	shards [linkShards]linkShard
}

const linkShards = 64

// linkShard holds its users' userSeq, split so that the common state costs
// least: last in one map when it is not 0, ahead (rare: a second
// connection of a user whose replay went further) in another.
type linkShard struct {
	mu    sync.Mutex
	last  map[key]int64
	ahead map[key]map[*Session]int64
}

// userSeq is what this node wrote of one user's persistent pushes.
type userSeq struct {
	last int64 // every open connection of the user has every seq ≤ last
	// ahead: connections whose login replay went past last; they already
	// hold every seq ≤ their value (dropped once last reaches it).
	ahead map[*Session]int64
}

func newClusterLink(srv *Server, b Bus) *clusterLink {
	l := &clusterLink{bus: b, srv: srv}
	l.node = &BusNode{l: l, applying: make(map[memberChange]int)}
	for i := range l.shards {
		l.shards[i].last = make(map[key]int64)
		l.shards[i].ahead = make(map[key]map[*Session]int64)
	}
	return l
}

// start registers the node with the bus (New calls it, before serving).
func (l *clusterLink) start() error {
	l.srv.hub.onMember = l.memberChanged // no connection yet
	return l.bus.Register(l.node)
}

// Subscribe tells the bus, unless the user is gone again (the server
// calls it after releasing the order lock; see Unsubscribe).
func (l *clusterLink) Subscribe(uid key) error {
	lock := l.srv.hub.orderLock(uid)
	lock.Lock()
	defer lock.Unlock()
	if !l.srv.hub.online(uid) {
		return nil
	}
	return l.bus.Subscribe(string(uid)) // must not block (Bus contract)
}

// Unsubscribe forgets the user's write state and tells the bus, unless
// the user is back: the server calls it after releasing the order lock, so
// a new login may have come in between, and its Subscribe found the old
// subscription still there. Checking and unsubscribing under the lock
// keeps the subscription whenever the user has a connection here.
func (l *clusterLink) Unsubscribe(uid key) error {
	lock := l.srv.hub.orderLock(uid)
	lock.Lock()
	defer lock.Unlock()
	if l.srv.hub.online(uid) {
		return nil
	}
	l.store(uid, userSeq{})
	return l.bus.Unsubscribe(string(uid)) // must not block (Bus contract)
}

func (l *clusterLink) shard(uid key) *linkShard {
	return &l.shards[l.srv.hub.hash(uid)%linkShards]
}

// load returns uid's write state (the zero state when none is kept).
// Called under the order lock; the ahead map it returns is the kept one.
func (l *clusterLink) load(uid key) userSeq {
	sh := l.shard(uid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return userSeq{last: sh.last[uid], ahead: sh.ahead[uid]}
}

// store keeps uid's write state, or forgets it when it is the zero state.
// Called under the order lock.
func (l *clusterLink) store(uid key, us userSeq) {
	sh := l.shard(uid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if us.last != 0 {
		sh.last[uid] = us.last
	} else {
		delete(sh.last, uid)
	}
	if len(us.ahead) > 0 {
		sh.ahead[uid] = us.ahead
	} else {
		delete(sh.ahead, uid)
	}
}

// replayed records that a login's replay brought s up to seq upTo (the
// resume point or the last replayed message). Called under the order lock.
func (l *clusterLink) replayed(s *Session, upTo int64) {
	others := false
	var buf [4]*Session
	for _, c := range l.srv.hub.conns(s.uid, buf[:0]) {
		if c != s && !c.closed.Load() {
			others = true
			break
		}
	}
	if !others {
		l.store(s.uid, userSeq{last: upTo})
		return
	}
	us := l.load(s.uid)
	if upTo > us.last {
		if us.ahead == nil {
			us.ahead = make(map[*Session]int64, 1)
		}
		us.ahead[s] = upTo
		l.store(s.uid, us)
	}
}

// writeStored writes the stored message sh (its Seq set) to uid's
// connections here, after filling any gap up to prev from the Store.
// Called under the order lock. It returns the number of connections that
// hold the message afterwards.
func (l *clusterLink) writeStored(ctx context.Context, b *batch, uid key, sh *pack.Shared, prev int64) int {
	var buf [4]*Session
	conns := l.srv.hub.conns(uid, buf[:0])
	if len(conns) == 0 {
		return 0
	}
	seq := sh.Message().Seq
	us := l.load(uid) // absent: the zero state, which every login records (replayed)
	if seq <= us.last {
		n := 0 // written already (a copy from another path): they hold it
		for _, s := range conns {
			if forDevice(s, sh.Message()) {
				n++
			}
		}
		return n
	}
	if prev < 0 || prev > us.last {
		// A message stored before this one has not been written here yet:
		// write the missing ones from the Store first, never past a gap.
		missed, err := l.srv.store.After(ctx, string(uid), us.last, 0)
		if err != nil {
			l.srv.log.Warn("cluster: fetch missed persistent pushes", "uid", uid, "after", us.last, "err", err)
			l.bus.Resync(string(uid))
			return 0
		}
		filled := 0
		for i := range missed {
			if missed[i].Seq >= seq {
				break
			}
			if missed[i].Seq > us.last {
				l.write(ctx, b, uid, &us, conns, pack.NewShared(l.srv.cfg.ByteOrder, missed[i]))
				filled++
			}
		}
		l.srv.log.Debug("cluster: wrote persistent pushes missed before this one", "uid", uid, "seq", seq, "prev", prev, "missed", filled)
	}
	n := l.write(ctx, b, uid, &us, conns, sh)
	l.store(uid, us)
	return n
}

// write queues sh on every open connection that does not hold it yet, and
// moves us past it (the caller stores us).
func (l *clusterLink) write(ctx context.Context, b *batch, uid key, us *userSeq, conns []*Session, sh *pack.Shared) int {
	seq := sh.Message().Seq
	n := 0
	for _, s := range conns {
		if s.closed.Load() || !forDevice(s, sh.Message()) {
			continue
		}
		n++
		if a, ok := us.ahead[s]; ok && seq <= a {
			continue // its replay had it
		}
		l.srv.queueStored(ctx, b, uid, s, sh)
	}
	us.last = seq
	for s, a := range us.ahead {
		if a <= seq || s.closed.Load() {
			delete(us.ahead, s)
		}
	}
	return n
}

// memberChange is one room membership change.
type memberChange struct {
	room, uid key
	member    bool
}

// memberChanged hears every membership change of this node's hub; changes
// that the bus itself is applying (BusNode.SetMember) are not sent back.
func (l *clusterLink) memberChanged(room, uid key, member bool) {
	if l.node.isApplying(memberChange{room, uid, member}) {
		return
	}
	l.bus.MemberChanged(string(room), string(uid), member)
}

// BusNode is the node as its Bus sees it (Bus.Register): where the bus
// delivers other nodes' pushes and room changes, and what it reports in
// its heartbeats. Its methods are safe for concurrent use.
type BusNode struct {
	l *clusterLink

	mu       sync.Mutex
	applying map[memberChange]int
}

// ID returns the node's id.
func (n *BusNode) ID() string { return n.l.srv.nodeID }

// Deliver writes a push another node published to this node's users and
// returns the connections it reached (for a persistent push: that hold it
// now, including those that had it already), for the origin's Outcome
// (Reach).
func (n *BusNode) Deliver(d Delivery) int { return n.l.srv.fromBus(d) }

// Stats returns the node's current load.
func (n *BusNode) Stats() Stats { return n.l.srv.Stats() }

// Serving reports whether the node accepts connections (it serves a
// listener and is not shutting down).
func (n *BusNode) Serving() bool { return !n.l.srv.isClosing() && n.l.srv.Addr() != nil }

// SetMember applies a room membership change made on another node. room
// and uid are the keys MemberChanged reported.
func (n *BusNode) SetMember(roomKey, uidKey string, member bool) {
	room, uid := key(roomKey), key(uidKey) // what MemberChanged reported
	c := memberChange{room, uid, member}
	n.mu.Lock()
	n.applying[c]++
	n.mu.Unlock()
	if member {
		n.l.srv.hub.join(room, uid)
	} else {
		n.l.srv.hub.leave(room, uid)
	}
	n.mu.Lock()
	if n.applying[c]--; n.applying[c] == 0 {
		delete(n.applying, c)
	}
	n.mu.Unlock()
}

func (n *BusNode) isApplying(c memberChange) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.applying[c] > 0
}
