package server

import (
	"context"
	"time"

	"github.com/plexpush/plex/pack"
)

// Bus connects this node to the other nodes of a cluster: a push accepted
// on one node reaches users connected to others, room membership and
// health are shared, and persistent pushes stored by one node reach the
// others in seq order. It is the whole cluster contract: one interface,
// registered once (Register), no optional parts. Nil in Config means a
// single node. Package cluster implements it on NATS; a fake for tests
// needs each method, most of them one line.
//
// Blocking: Register, Publish and Close may wait on the network; Online
// may too (a cluster-wide lookup), so the node never calls it while it
// holds a user's order lock. Every other method must return without
// waiting on the network. All but Register may be called concurrently.
type Bus interface {
	// Register hands the bus its node, once, before the node serves: the
	// bus delivers other nodes' pushes to node.Deliver from then on (from
	// any goroutine; persistent deliveries may arrive in any order and more
	// than once: the node orders and deduplicates them, see Delivery.Prev),
	// applies other nodes' room changes with node.SetMember, and reads the
	// node's id, load and serving state for its heartbeats. An error fails
	// New.
	Register(node *BusNode) error
	// Publish hands a push to the other nodes that hold its target. An
	// error means the push could not be routed; the node then reports the
	// push as failed, except a persistent one, which is already stored: a
	// Bus must get a persistent delivery to the nodes holding its user
	// later (e.g. after reconnecting) rather than fail it.
	//
	// For a push to one user whom this node does not hold, reach is not
	// nil: when Publish returns nil the bus calls it once (from any
	// goroutine, maybe before Publish returns) with what the other nodes
	// answered within a short bound, so that the push's Outcome says
	// whether any node holds the user. reach must not block.
	Publish(ctx context.Context, d Delivery, reach func(Reach)) error
	// Subscribe and Unsubscribe tell the bus this node gained its first or
	// lost its last connection of uid.
	Subscribe(uid string) error
	Unsubscribe(uid string) error
	// Online reports whether uid is connected to any node of the cluster.
	Online(uid string) bool
	// MemberChanged says that this node changed a room's membership (Join,
	// Leave, an app's /room/join). The bus shares it with the other nodes,
	// which apply it with BusNode.SetMember.
	MemberChanged(room, uid string, member bool)
	// Resync asks the bus to deliver uid's stored messages again soon (as
	// persistent Deliveries, e.g. the last one with its Prev): the node
	// found a gap in a user's seqs that it could not fill from the Store.
	Resync(uid string)
	// PickHost returns the least-loaded live node's advertised address for
	// GET /plex/v1/host (ok false: the bus cannot tell; this node answers).
	PickHost() (addr string, ok bool)
	// Nodes lists the cluster's live nodes for GET /plex/v1/stats.
	Nodes() []NodeInfo
	// Health returns why the bus cannot route pushes now, or nil; /readyz
	// reports it (a load balancer's question: can the node take apps?).
	Health() error
	// StoreHealth returns why a persistent push could not be stored now
	// (e.g. JetStream without quorum), or nil; /readyz?store=1 reports it
	// (a pusher's question).
	StoreHealth() error
	// Close stops delivering and leaves the cluster.
	Close() error
}

// Reach is what the other nodes of a cluster answered to a push published
// to one user whom the pushing node does not hold.
type Reach struct {
	// Delivered counts the connections another node wrote the push to (for
	// a persistent push: that hold it now), as the first node holding the
	// user to answer said.
	Delivered int
	// Elsewhere is true when another node holds the user, or may: false
	// only when the bus knows for sure that no other node does. With no
	// answer within the bound the user counts as held, unconfirmed.
	Elsewhere bool
}

// Delivery is a push travelling between nodes.
type Delivery struct {
	Origin  string       `json:"origin"`
	To      Target       `json:"to"`
	Msg     pack.Message `json:"msg"`
	Persist bool         `json:"persist,omitempty"`
	// Prev, for a persistent push to one user, is the seq of the user's
	// stored message that preceded Msg when Msg was stored (0: none), or
	// -1 when unknown. A node writes Msg to the user's connections only
	// after everything up to Prev, fetching from the Store what it has not
	// seen: persistent pushes from different nodes may arrive out of seq
	// order, and an app drops a seq at or below the highest it holds.
	Prev int64 `json:"prev,omitempty"`
}

// fromBus delivers a push published by another node to this node's users
// (BusNode.Deliver) and returns the connections it reached.
func (srv *Server) fromBus(d Delivery) int {
	if d.Origin == srv.nodeID {
		return 0
	}
	b := srv.getBatch()
	defer srv.putBatch(b)
	o := pushOptions{local: true}
	n := 0
	switch {
	case d.To.UID != "":
		n = srv.deliverLocal(b, key(d.To.UID), &d.Msg, d.Persist, d.Prev) // the bus carries keys
	case len(d.To.UIDs) > 0:
		for _, uid := range d.To.UIDs {
			n += srv.deliverLocal(b, key(uid), &d.Msg, d.Persist, -1)
		}
	default:
		out, _ := srv.push(srv.baseCtx, b, d.To, d.Msg, o)
		n = out.Delivered
	}
	return n
}

// deliveryTo is the target of a Delivery to one user: the bus carries
// keys (fromBus turns them back), not names an app scopes again.
func deliveryTo(uid key) Target { return Target{UID: string(uid)} }

// deliverLocal writes a message that another node already stored (it
// carries its seq) or a transient one to this node's connections of uid.
func (srv *Server) deliverLocal(b *batch, uid key, m *pack.Message, persisted bool, prev int64) int {
	lock := srv.hub.orderLock(uid)
	lock.Lock()
	defer lock.Unlock()
	sh := pack.NewShared(srv.cfg.ByteOrder, *m)
	if persisted {
		return srv.link.writeStored(srv.baseCtx, b, uid, sh, prev)
	}
	return srv.writeLocal(srv.baseCtx, b, uid, sh, false)
}

// roomMemberOptions is how a room push reaches each member on this node:
// with a bus, the room push itself goes to the other nodes (push publishes
// it once), so each member is written here only, not published per user.
func (srv *Server) roomMemberOptions(o pushOptions) pushOptions {
	if srv.link != nil {
		o.local = true
	}
	return o
}

// NodeInfo describes a live node of a cluster, as its heartbeats said.
type NodeInfo struct {
	ID          string    `json:"id"`
	Addr        string    `json:"addr"`
	Connections int       `json:"connections"`
	Users       int       `json:"users"`
	OK          bool      `json:"ok"`
	Error       string    `json:"error,omitempty"`
	Seen        time.Time `json:"seen"`
}
