package server

import (
	"hash/maphash"
	"sync"
)

// hub is the registry of this node's connections, sharded by uid so that
// logins, logouts and pushes to different users rarely share a lock.
type hub struct {
	seed   maphash.Seed
	shards [hubShards]hubShard
	rooms  [hubShards]roomShard
	// order serialises "assign seq + queue on every connection" per user,
	// striped so it needs no per-user allocation (see deliverUser).
	order [orderStripes]sync.Mutex
	// onMember, set before serving when a cluster bus shares rooms, hears
	// every membership change (cluster_link.go). It must not block.
	onMember func(room, uid string, member bool)
}

const (
	hubShards    = 64
	orderStripes = 1024
)

// hubShard holds a user in exactly one of two maps: most users have one
// connection per node, and a map entry with a single pointer costs ~30 bytes
// less per connection than one with a slice (docs/benchmarks.md, idle memory).
type hubShard struct {
	mu    sync.RWMutex
	one   map[string]*Session   // users with one connection here
	multi map[string][]*Session // users with several; never modified after it is published
	conns int
}

type roomShard struct {
	mu    sync.RWMutex
	rooms map[string]map[string]struct{} // room → uids
}

func newHub() *hub {
	h := &hub{seed: maphash.MakeSeed()}
	for i := range h.shards {
		h.shards[i].one = make(map[string]*Session)
		h.shards[i].multi = make(map[string][]*Session)
		h.rooms[i].rooms = make(map[string]map[string]struct{})
	}
	return h
}

func (h *hub) hash(key string) uint64 { return maphash.String(h.seed, key) }

func (h *hub) shard(uid string) *hubShard { return &h.shards[h.hash(uid)%hubShards] }

func (h *hub) orderLock(uid string) *sync.Mutex { return &h.order[h.hash(uid)%orderStripes] }

// add registers s under its uid. first is true when s is the user's first
// connection here. With onePerDevice, a connection of the same device is
// returned as replaced (the caller closes it with CodeReplaced).
func (h *hub) add(s *Session, onePerDevice bool) (first bool, replaced *Session) {
	sh := h.shard(s.uid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	list := sh.multi[s.uid]
	if c := sh.one[s.uid]; c != nil {
		list = []*Session{c} // a user's second connection here: rare
	}
	if onePerDevice && s.device != "" {
		for i, old := range list {
			if old.device == s.device {
				replaced = old
				list = append(list[:i:i], list[i+1:]...)
				sh.conns--
				break
			}
		}
	}
	first = len(list) == 0 && replaced == nil
	sh.set(s.uid, append(list[:len(list):len(list)], s))
	sh.conns++
	return first, replaced
}

// set publishes list as uid's connections (a fresh slice, or one nobody else holds).
func (sh *hubShard) set(uid string, list []*Session) {
	switch len(list) {
	case 0:
		delete(sh.one, uid)
		delete(sh.multi, uid)
	case 1:
		sh.one[uid] = list[0]
		delete(sh.multi, uid)
	default:
		sh.multi[uid] = list
		delete(sh.one, uid)
	}
}

// remove unregisters s; last is true when it was the user's last connection here.
func (h *hub) remove(s *Session) (last bool, found bool) {
	sh := h.shard(s.uid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.one[s.uid] == s {
		delete(sh.one, s.uid)
		sh.conns--
		return true, true
	}
	list := sh.multi[s.uid]
	for i, c := range list {
		if c == s {
			sh.conns--
			// copy: concurrent readers may hold the old slice
			sh.set(s.uid, append(list[:i:i], list[i+1:]...))
			return false, true
		}
	}
	return false, false
}

// conns appends the user's connections here to buf and returns it; callers
// pass a small array on their stack so that a lookup allocates nothing.
func (h *hub) conns(uid string, buf []*Session) []*Session {
	sh := h.shard(uid)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if s := sh.one[uid]; s != nil {
		return append(buf, s)
	}
	return append(buf, sh.multi[uid]...)
}

// online reports whether uid has a connection here.
func (h *hub) online(uid string) bool {
	sh := h.shard(uid)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.one[uid] != nil || len(sh.multi[uid]) > 0
}

// each calls fn for every connection here, shard by shard.
func (h *hub) each(fn func(*Session)) {
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		for _, s := range sh.one {
			fn(s)
		}
		for _, list := range sh.multi {
			for _, s := range list {
				fn(s)
			}
		}
		sh.mu.RUnlock()
	}
}

// counts returns the number of users and connections here.
func (h *hub) counts() (users, conns int) {
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		users += len(sh.one) + len(sh.multi)
		conns += sh.conns
		sh.mu.RUnlock()
	}
	return users, conns
}

func (h *hub) roomShard(room string) *roomShard { return &h.rooms[h.hash(room)%hubShards] }

// join adds uid to room; it reports whether it was not a member before.
func (h *hub) join(room, uid string) bool {
	rs := h.roomShard(room)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	m := rs.rooms[room]
	if m == nil {
		m = make(map[string]struct{})
		rs.rooms[room] = m
	}
	if _, ok := m[uid]; ok {
		return false
	}
	m[uid] = struct{}{}
	if h.onMember != nil {
		h.onMember(room, uid, true)
	}
	return true
}

// leave removes uid from room; it reports whether it was a member.
func (h *hub) leave(room, uid string) bool {
	rs := h.roomShard(room)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	m := rs.rooms[room]
	if _, ok := m[uid]; !ok {
		return false
	}
	delete(m, uid)
	if len(m) == 0 {
		delete(rs.rooms, room)
	}
	if h.onMember != nil {
		h.onMember(room, uid, false)
	}
	return true
}

// members returns a snapshot of room's uids.
func (h *hub) members(room string) []string {
	rs := h.roomShard(room)
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	m := rs.rooms[room]
	out := make([]string, 0, len(m))
	for uid := range m {
		out = append(out, uid)
	}
	return out
}
