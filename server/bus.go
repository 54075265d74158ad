package server

import (
	"context"

	"github.com/plexpush/plex/pack"
)

// Bus connects the nodes of a cluster: a push accepted on one node reaches
// users connected to others. Nil in Config means a single node.
type Bus interface {
	// Publish hands a push to the other nodes that hold its target.
	Publish(ctx context.Context, d Delivery) error
	// Subscribe and Unsubscribe tell the bus this node gained its first or
	// lost its last connection of uid.
	Subscribe(uid string) error
	Unsubscribe(uid string) error
	// Online reports whether uid is connected to any node of the cluster.
	Online(uid string) bool
	// Start begins delivering other nodes' pushes to deliver, until Close.
	Start(node string, deliver func(Delivery)) error
	Close() error
}

// Delivery is a push travelling between nodes.
type Delivery struct {
	Origin  string       `json:"origin"`
	To      Target       `json:"to"`
	Msg     pack.Message `json:"msg"`
	Persist bool         `json:"persist,omitempty"`
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
		srv.deliverLocal(b, d.To.UID, &d.Msg, d.Persist)
	case len(d.To.UIDs) > 0:
		for _, uid := range d.To.UIDs {
			srv.deliverLocal(b, uid, &d.Msg, d.Persist)
		}
	default:
		_, _ = srv.push(srv.baseCtx, b, d.To, d.Msg, o)
	}
}

// deliverLocal writes a message that another node already stored (it
// carries its seq) or a transient one to this node's connections of uid.
func (srv *Server) deliverLocal(b *batch, uid string, m *pack.Message, persisted bool) {
	lock := srv.hub.orderLock(uid)
	lock.Lock()
	defer lock.Unlock()
	sh := pack.NewShared(srv.cfg.ByteOrder, *m)
	for _, s := range srv.hub.conns(uid) {
		if s.closed.Load() {
			continue
		}
		b.add(s, s.frame(sh))
		if persisted && !s.acks {
			_ = srv.store.Ack(srv.baseCtx, uid, s.device, m.Seq)
		}
	}
}
