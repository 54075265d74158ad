package cluster

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/plexpush/plex/server"
)

// heartbeat is what a node announces on <p>.nodes every Config.Heartbeat.
type heartbeat struct {
	ID    string `json:"id"`
	Addr  string `json:"addr"`            // where apps dial it
	Conns int    `json:"conns"`           // open connections
	Users int    `json:"users"`           // users with a connection
	OK    bool   `json:"ok"`              // serving and routed (takes new apps)
	Every int64  `json:"every_ms"`        // its heartbeat interval
	Bye   bool   `json:"bye,omitempty"`   // leaving now
	Error string `json:"error,omitempty"` // why not OK
}

// NodeInfo describes a live node of the cluster (Nodes); the server's
// GET /plex/v1/stats lists them (server.Bus.Nodes).
type NodeInfo = server.NodeInfo

// registry is the node's view of the cluster, built from heartbeats. A
// peer is live while its last heartbeat is younger than 3 of its
// intervals, or until it says bye; this node is always live in its own
// view (with its own numbers, read when asked).
type registry struct {
	b *Bus

	mu       sync.Mutex
	peers    map[string]*peer
	self     int // apps sent to this node since its last heartbeat
	lastPush time.Time
}

type peer struct {
	hb       heartbeat
	seen     time.Time
	assigned int // apps sent there by PickHost since its last heartbeat
}

// deadAfter heartbeats a node is taken for dead.
const deadAfter = 3

func (r *registry) init(b *Bus) {
	r.b = b
	r.peers = make(map[string]*peer)
}

// run announces this node every interval, forgets dead peers and probes
// JetStream (for Health), until ctx ends.
func (r *registry) run(ctx context.Context) {
	t := time.NewTicker(r.b.c.cfg.Heartbeat)
	defer t.Stop()
	r.announce(false)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.b.c.probe(ctx)
			r.announce(false)
			r.expire(time.Now())
		}
	}
}

func (r *registry) own(bye bool) heartbeat {
	hb := heartbeat{ID: r.b.nodeID, Every: r.b.c.cfg.Heartbeat.Milliseconds(), Bye: bye}
	if n := r.b.node; n != nil {
		st := n.Stats()
		hb.Addr, hb.Conns, hb.Users = st.Addr, st.Connections, st.Users
		hb.OK = n.Serving()
	}
	if err := r.b.Health(); err != nil && !bye {
		hb.OK, hb.Error = false, err.Error()
	}
	if bye {
		hb.OK = false
	}
	return hb
}

func (r *registry) announce(bye bool) {
	data, _ := json.Marshal(r.own(bye))
	r.mu.Lock()
	r.self, r.lastPush = 0, time.Now()
	r.mu.Unlock()
	_ = r.b.c.nc.Publish(r.b.c.names.nodes, data)
}

// bye tells the other nodes to stop naming this one now.
func (r *registry) bye() {
	if !r.b.c.nc.IsConnected() {
		return // nobody to tell: peers time this node out
	}
	r.announce(true)
	_ = r.b.c.nc.FlushTimeout(time.Second)
}

// receive handles a peer's heartbeat (NATS callback goroutine).
func (r *registry) receive(m *nats.Msg) {
	var hb heartbeat
	if json.Unmarshal(m.Data, &hb) != nil || hb.ID == "" || hb.ID == r.b.nodeID {
		return
	}
	r.mu.Lock()
	p, known := r.peers[hb.ID]
	if hb.Bye {
		delete(r.peers, hb.ID)
		r.mu.Unlock()
		r.b.c.log.Info("cluster: node left", "peer", hb.ID)
		return
	}
	if !known {
		p = &peer{}
		r.peers[hb.ID] = p
	}
	p.hb, p.seen, p.assigned = hb, time.Now(), 0
	// A newcomer learns about this node at once instead of after a tick.
	answer := !known && time.Since(r.lastPush) > 50*time.Millisecond
	r.mu.Unlock()
	if !known {
		r.b.c.log.Info("cluster: node joined", "peer", hb.ID, "addr", hb.Addr)
	}
	if answer {
		r.announce(false)
	}
}

func (r *registry) alive(p *peer, now time.Time) bool {
	every := time.Duration(p.hb.Every) * time.Millisecond
	if every <= 0 {
		every = r.b.c.cfg.Heartbeat
	}
	return now.Sub(p.seen) < deadAfter*every
}

func (r *registry) expire(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, p := range r.peers {
		if !r.alive(p, now) {
			delete(r.peers, id)
			r.b.c.log.Warn("cluster: node silent; taken for dead", "peer", id, "last_seen", p.seen)
		}
	}
}

// PickHost implements server.Bus: the advertised address of the
// live, healthy node with the fewest connections (counting the apps sent
// to each since its last heartbeat, so that a burst of discoveries is
// spread instead of sent to one node). ok is false when no node qualifies.
func (b *Bus) PickHost() (addr string, ok bool) {
	r := &b.reg
	own := r.own(false)
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	best, bestLoad := "", 0
	var bestPeer *peer
	if own.OK && own.Addr != "" {
		best, bestLoad = own.Addr, own.Conns+r.self
	}
	ids := make([]string, 0, len(r.peers))
	for id := range r.peers {
		ids = append(ids, id)
	}
	sort.Strings(ids) // deterministic among equals
	for _, id := range ids {
		p := r.peers[id]
		if !p.hb.OK || p.hb.Addr == "" || !r.alive(p, now) {
			continue
		}
		if load := p.hb.Conns + p.assigned; best == "" || load < bestLoad {
			best, bestLoad, bestPeer = p.hb.Addr, load, p
		}
	}
	if best == "" {
		return "", false
	}
	if bestPeer != nil {
		bestPeer.assigned++
	} else {
		r.self++
	}
	return best, true
}

// Nodes returns the live nodes this node knows of, itself included,
// sorted by id.
func (b *Bus) Nodes() []NodeInfo {
	r := &b.reg
	own := r.own(false)
	now := time.Now()
	out := []NodeInfo{{ID: own.ID, Addr: own.Addr, Connections: own.Conns, Users: own.Users, OK: own.OK, Error: own.Error, Seen: now}}
	r.mu.Lock()
	for _, p := range r.peers {
		if r.alive(p, now) {
			out = append(out, NodeInfo{ID: p.hb.ID, Addr: p.hb.Addr, Connections: p.hb.Conns, Users: p.hb.Users,
				OK: p.hb.OK, Error: p.hb.Error, Seen: p.seen})
		}
	}
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
