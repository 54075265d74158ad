package server

import (
	"context"
	"time"

	"github.com/plexpush/plex/pack"
)

// Bus connects the nodes of a cluster: a push accepted on one node reaches
// users connected to others. Nil in Config means a single node. Package
// cluster implements it on NATS.
type Bus interface {
	// Publish hands a push to the other nodes that hold its target. An
	// error means the push could not be routed; the node then reports the
	// push as failed, except a persistent one, which is already stored: a
	// Bus must get a persistent delivery to the nodes holding its user
	// later (e.g. after reconnecting) rather than fail it.
	Publish(ctx context.Context, d Delivery) error
	// Subscribe and Unsubscribe tell the bus this node gained its first or
	// lost its last connection of uid. They must not block on the network.
	Subscribe(uid string) error
	Unsubscribe(uid string) error
	// Online reports whether uid is connected to any node of the cluster.
	Online(uid string) bool
	// Start begins delivering other nodes' pushes to deliver, until Close.
	// deliver may be called from any goroutine; persistent deliveries may
	// arrive in any order and more than once (the node orders and
	// deduplicates them, see Delivery.Prev).
	Start(node string, deliver func(Delivery)) error
	Close() error
}

// ClusterBus is a Bus that shares more than pushes between the nodes:
// room membership, health, and the node's side of ordered persistent
// delivery. The node detects it with a type assertion (package cluster's
// Bus implements it); every method but Attach may be called concurrently.
type ClusterBus interface {
	Bus
	// Attach gives the bus its node, once, before Start.
	Attach(n *Node)
	// MemberChanged says that this node changed a room's membership (Join,
	// Leave, an app's /room/join). The bus shares it with the other nodes,
	// which apply it with Node.SetMember. It must not block.
	MemberChanged(room, uid string, member bool)
	// Health returns why the bus cannot route pushes now, or nil; /readyz
	// reports it (a load balancer's question: can the node take apps?).
	Health() error
	// StoreHealth returns why a persistent push could not be stored now
	// (e.g. JetStream without quorum), or nil; /readyz?store=1 reports it
	// (a pusher's question). It must not block.
	StoreHealth() error
	// Resync asks the bus to deliver uid's stored messages again soon (as
	// persistent Deliveries, e.g. the last one with its Prev): the node
	// found a gap in a user's seqs that it could not fill from the Store.
	Resync(uid string)
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

// fromBus delivers a push published by another node to this node's users.
func (srv *Server) fromBus(d Delivery) {
	if d.Origin == srv.nodeID {
		return
	}
	b := srv.getBatch()
	defer srv.putBatch(b)
	o := pushOptions{local: true}
	switch {
	case d.To.UID != "":
		srv.deliverLocal(b, d.To.UID, &d.Msg, d.Persist, d.Prev)
	case len(d.To.UIDs) > 0:
		for _, uid := range d.To.UIDs {
			srv.deliverLocal(b, uid, &d.Msg, d.Persist, -1)
		}
	default:
		_, _ = srv.push(srv.baseCtx, b, d.To, d.Msg, o)
	}
}

// deliverLocal writes a message that another node already stored (it
// carries its seq) or a transient one to this node's connections of uid.
func (srv *Server) deliverLocal(b *batch, uid string, m *pack.Message, persisted bool, prev int64) {
	lock := srv.hub.orderLock(uid)
	lock.Lock()
	defer lock.Unlock()
	sh := pack.NewShared(srv.cfg.ByteOrder, *m)
	if persisted {
		if l, ok := srv.bus.(*clusterLink); ok {
			l.writeStored(srv.baseCtx, b, uid, sh, prev)
			return
		}
	}
	srv.writeLocal(srv.baseCtx, b, uid, sh, persisted)
}

// startBus starts Config.Bus (New calls it). The bus is wrapped in the
// node's half of the cluster contract (cluster_link.go).
func (srv *Server) startBus() error {
	l := newClusterLink(srv, srv.bus)
	srv.bus = l
	return l.start()
}

// storedReplayed tells the cluster link up to which seq a login's replay
// brought s (online calls it under the user's order lock).
func (srv *Server) storedReplayed(s *Session, upTo int64) {
	if l, ok := srv.bus.(*clusterLink); ok {
		l.replayed(s, upTo)
	}
}

// writeStored writes a persistent push this node just stored to the
// user's local connections (deliverUser calls it under the order lock
// when a bus is set): in seq order after whatever other nodes stored
// before it. It returns the number of connections written to.
func (srv *Server) writeStored(ctx context.Context, b *batch, uid string, sh *pack.Shared, prev int64) int {
	return srv.bus.(*clusterLink).writeStored(ctx, b, uid, sh, prev)
}

// roomMemberOptions is how a room push reaches each member on this node:
// with a bus, the room push itself goes to the other nodes (push publishes
// it once), so each member is written here only, not published per user.
func (srv *Server) roomMemberOptions(o pushOptions) pushOptions {
	if srv.bus != nil {
		o.local = true
	}
	return o
}

// busHealth returns why the cluster cannot route pushes now (nil: it can,
// or there is no cluster).
func (srv *Server) busHealth() error {
	if l, ok := srv.bus.(*clusterLink); ok {
		return l.health()
	}
	return nil
}

// storeHealth returns why a persistent push could not be stored now (nil:
// it could, or the store keeps no state of NATS).
func (srv *Server) storeHealth() error {
	if l, ok := srv.bus.(*clusterLink); ok && l.cb != nil {
		return l.cb.StoreHealth()
	}
	return nil
}

// HostPicker is implemented by a cluster Bus that knows the least-loaded
// live node; /plex/v1/host then names it instead of this node.
type HostPicker interface {
	PickHost() (addr string, ok bool)
}

// NodeLister is implemented by a cluster Bus that knows the cluster's live
// nodes; /plex/v1/stats lists them (the operator console shows them).
type NodeLister interface {
	Nodes() []NodeInfo
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
