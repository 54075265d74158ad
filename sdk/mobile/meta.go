package plexmobile

import (
	"maps"
	"slices"
)

// Meta is a push's meta (docs/protocol.md §9): the node's id, ts and
// persist, and the pusher's own keys. It is a class in Java and Swift
// (bindings pass no maps): Get a key, or walk Len and Key.
type Meta struct {
	m    map[string]string
	keys []string // sorted
}

func newMeta(m map[string]string) *Meta {
	return &Meta{m: m, keys: slices.Sorted(maps.Keys(m))}
}

// Get returns the value of key ("" when absent).
func (m *Meta) Get(key string) string {
	if m == nil {
		return ""
	}
	return m.m[key]
}

// Has reports whether key is present (with any value).
func (m *Meta) Has(key string) bool {
	if m == nil {
		return false
	}
	_, ok := m.m[key]
	return ok
}

// Len returns the number of keys.
func (m *Meta) Len() int64 {
	if m == nil {
		return 0
	}
	return int64(len(m.keys))
}

// Key returns the i-th key in sorted order ("" when i is out of range).
func (m *Meta) Key(i int64) string {
	if m == nil || i < 0 || i >= int64(len(m.keys)) {
		return ""
	}
	return m.keys[i]
}
