package cluster

import "sync"

// hintCap bounds a hints map; it is dropped whole when full (a miss costs
// one extra read).
const hintCap = 100_000

// hints is a bounded per-user cache of what this node last saw in the
// store (a user's last seq, cursors, purge point): a miss or a stale entry
// costs a read or a retried compare-and-set, never a wrong answer. Safe
// for concurrent use.
type hints[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

func newHints[V any]() *hints[V] { return &hints[V]{m: make(map[string]V)} }

func (h *hints[V]) get(uid string) (V, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.m[uid]
	return v, ok
}

func (h *hints[V]) set(uid string, v V) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.m) >= hintCap {
		clear(h.m)
	}
	h.m[uid] = v
}

func (h *hints[V]) drop(uid string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, uid)
}
