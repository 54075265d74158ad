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
	onMember func(room, uid key, member bool)
}

const (
	hubShards    = 64
	orderStripes = 1024
)

// hubShard holds a user in exactly one of two maps. Most users have one
// connection per node: they are in one, keyed by the uid's 64-bit hash
// (hub.hash), an entry of ~24-32 bytes, where a uid key (a string header)
// cost ~10 more and a slice ~30 more (docs/benchmarks.md, idle memory).
// Users with several connections are in multi, keyed by uid; so is a user
// whose hash another user's entry in one already holds (hashes of two uids
// can be equal, so a hit in one counts only when its Session's uid is the
// uid looked up).
type hubShard struct {
	mu    sync.RWMutex
	one   map[uint64]*Session // users with one connection here, by hash
	multi map[key][]*Session  // the others; a list is never modified after it is published
	conns int
}

type roomShard struct {
	mu    sync.RWMutex
	rooms map[key]map[key]struct{} // room → uids
}

func newHub() *hub {
	h := &hub{seed: maphash.MakeSeed()}
	for i := range h.shards {
		h.shards[i].one = make(map[uint64]*Session)
		h.shards[i].multi = make(map[key][]*Session)
		h.rooms[i].rooms = make(map[key]map[key]struct{})
	}
	return h
}

func (h *hub) hash(k key) uint64 { return maphash.String(h.seed, string(k)) }

// locate returns uid's shard and its key there.
func (h *hub) locate(uid key) (*hubShard, uint64) {
	k := h.hash(uid)
	return &h.shards[k%hubShards], k
}

func (h *hub) orderLock(uid key) *sync.Mutex { return &h.order[h.hash(uid)%orderStripes] }

// add registers s under its uid. first is true when s is the user's first
// connection here. With onePerDevice, a connection of the same device is
// returned as replaced (the caller closes it with CodeReplaced).
func (h *hub) add(s *Session, onePerDevice bool) (first bool, replaced *Session) {
	sh, k := h.locate(s.uid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.add(k, s, onePerDevice)
}

func (sh *hubShard) add(k uint64, s *Session, onePerDevice bool) (first bool, replaced *Session) {
	list := sh.multi[s.uid]
	if c := sh.lookup(k, s.uid); c != nil {
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
	sh.set(k, s.uid, append(list[:len(list):len(list)], s))
	sh.conns++
	return first, replaced
}

// lookup returns uid's connection in one, if uid is there.
func (sh *hubShard) lookup(k uint64, uid key) *Session {
	if c := sh.one[k]; c != nil && c.uid == uid {
		return c
	}
	return nil
}

// set publishes list as uid's connections (a fresh slice, or one nobody else holds).
func (sh *hubShard) set(k uint64, uid key, list []*Session) {
	mine := sh.lookup(k, uid) != nil
	switch {
	case len(list) == 1 && (mine || sh.one[k] == nil):
		sh.one[k] = list[0]
		delete(sh.multi, uid)
	case len(list) == 0:
		delete(sh.multi, uid)
		fallthrough
	default:
		if mine {
			delete(sh.one, k)
		}
		if len(list) > 0 {
			sh.multi[uid] = list // several, or another user holds k in one
		}
	}
}

// remove unregisters s; last is true when it was the user's last connection here.
func (h *hub) remove(s *Session) (last bool, found bool) {
	sh, k := h.locate(s.uid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.remove(k, s)
}

func (sh *hubShard) remove(k uint64, s *Session) (last bool, found bool) {
	if sh.one[k] == s {
		delete(sh.one, k)
		sh.conns--
		return true, true
	}
	list := sh.multi[s.uid]
	for i, c := range list {
		if c == s {
			sh.conns--
			// copy: concurrent readers may hold the old slice
			rest := append(list[:i:i], list[i+1:]...)
			sh.set(k, s.uid, rest)
			return len(rest) == 0, true
		}
	}
	return false, false
}

// conns appends the user's connections here to buf and returns it; callers
// pass a small array on their stack so that a lookup allocates nothing.
func (h *hub) conns(uid key, buf []*Session) []*Session {
	sh, k := h.locate(uid)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if s := sh.lookup(k, uid); s != nil {
		return append(buf, s)
	}
	return append(buf, sh.multi[uid]...)
}

// online reports whether uid has a connection here.
func (h *hub) online(uid key) bool {
	sh, k := h.locate(uid)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.lookup(k, uid) != nil || len(sh.multi[uid]) > 0
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

func (h *hub) roomShard(room key) *roomShard { return &h.rooms[h.hash(room)%hubShards] }

// join adds uid to room; it reports whether it was not a member before.
func (h *hub) join(room, uid key) bool {
	rs := h.roomShard(room)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	m := rs.rooms[room]
	if m == nil {
		m = make(map[key]struct{})
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
func (h *hub) leave(room, uid key) bool {
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
func (h *hub) members(room key) []key {
	rs := h.roomShard(room)
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	m := rs.rooms[room]
	out := make([]key, 0, len(m))
	for uid := range m {
		out = append(out, uid)
	}
	return out
}
