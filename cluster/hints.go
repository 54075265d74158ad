package cluster

import (
	"hash/maphash"
	"sync"
)

// hintCap bounds a hints map; it is dropped whole when full (a miss costs
// one extra read).
const hintCap = 100_000

// hints is a bounded per-user cache of what this node last saw in the
// store (a user's last seq, cursors, purge point): a miss or a stale entry
// costs a read or a retried compare-and-set, never a wrong answer. Safe
// for concurrent use.
type hints[V any] struct {
	mu  sync.Mutex
	m   map[string]V
	cap int
}

func newHints[V any]() *hints[V] { return newHintsCap[V](hintCap) }

func newHintsCap[V any](capacity int) *hints[V] {
	return &hints[V]{m: make(map[string]V), cap: capacity}
}

func (h *hints[V]) get(uid string) (V, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.m[uid]
	return v, ok
}

func (h *hints[V]) set(uid string, v V) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.m[uid]; !ok && len(h.m) >= h.cap {
		h.m = make(map[string]V) // a cleared map keeps its size: let it go
	}
	h.m[uid] = v
}

func (h *hints[V]) drop(uid string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, uid)
}

func (h *hints[V]) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.m)
}

// uidSetCap bounds a uidSet: ~20 MiB at most. Beyond it the set forgets
// everything and answers "may" for every user (one read each, as with no
// set), which is still right.
const uidSetCap = 1 << 19

// uidSet is a set of users that only grows: "may this user have X?",
// answered without I/O for a user who has not. It holds a 64-bit hash of
// each uid (24–36 bytes a user, where a map of uid strings cost ~50 plus
// the string), so two
// users may share an entry: the set then answers "may" for both, which
// costs a read, never a wrong answer, since nothing is ever removed. A nil
// set (not loaded yet, or over uidSetCap) answers "may" for everyone. Safe
// for concurrent use.
type uidSet struct {
	seed maphash.Seed
	cap  int
	mu   sync.Mutex
	m    map[uint64]struct{}
}

func newUIDSet() *uidSet { return &uidSet{seed: maphash.MakeSeed(), cap: uidSetCap} }

func (u *uidSet) hash(uid string) uint64 { return maphash.String(u.seed, uid) }

// may reports whether uid may be in the set.
func (u *uidSet) may(uid string) bool {
	h := u.hash(uid)
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		return true
	}
	_, ok := u.m[h]
	return ok
}

// add puts uid in the set; call it before the state it stands for exists.
func (u *uidSet) add(uid string) {
	h := u.hash(uid)
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		return
	}
	if _, ok := u.m[h]; ok {
		return
	}
	if len(u.m) >= u.cap {
		u.m = nil
		return
	}
	u.m[h] = struct{}{}
}

// loaded makes the set known: m holds the hashes (hash) of its users.
func (u *uidSet) loaded(m map[uint64]struct{}) {
	if len(m) > u.cap {
		m = nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.m = m
}
