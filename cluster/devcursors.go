package cluster

import (
	"encoding/json"
	"slices"
	"strings"
)

// devCursors is a user's device cursors (device → highest acked seq; ""
// is the shared device), sorted by device. A node caches one per user it
// served (Store.curs): as a slice it costs ~50 bytes for the usual single
// device, where a map cost ~250. It is never modified once built (with
// returns a copy), so a cached one can be read without a lock. In the
// bucket it is the JSON object {"device": seq, …}, keys sorted.
type devCursors []devCursor

type devCursor struct {
	dev string
	seq int64
}

func (d devCursors) find(dev string) (int, bool) {
	return slices.BinarySearchFunc(d, dev, func(c devCursor, dev string) int { return strings.Compare(c.dev, dev) })
}

// get returns dev's cursor and whether dev has one.
func (d devCursors) get(dev string) (int64, bool) {
	if i, ok := d.find(dev); ok {
		return d[i].seq, true
	}
	return 0, false
}

// with returns a copy of d with dev's cursor set to seq. A new device
// beyond max (> 0) evicts the device furthest behind (the lowest cursor,
// most likely abandoned; it also holds back purging what the others acked).
func (d devCursors) with(dev string, seq int64, max int) devCursors {
	i, ok := d.find(dev)
	if ok {
		out := slices.Clone(d)
		out[i].seq = seq
		return out
	}
	if max > 0 && len(d) >= max {
		lowest := 0
		for j, c := range d {
			if c.seq < d[lowest].seq {
				lowest = j
			}
		}
		d = slices.Delete(slices.Clone(d), lowest, lowest+1)
		i, _ = d.find(dev)
	}
	out := make(devCursors, 0, len(d)+1)
	out = append(out, d[:i]...)
	out = append(out, devCursor{dev, seq})
	return append(out, d[i:]...)
}

// low returns the lowest cursor (-1 with no device).
func (d devCursors) low() int64 {
	low := int64(-1)
	for _, c := range d {
		if low < 0 || c.seq < low {
			low = c.seq
		}
	}
	return low
}

// acked reports whether some device acked a seq above 0.
func (d devCursors) acked() bool {
	return slices.ContainsFunc(d, func(c devCursor) bool { return c.seq > 0 })
}

func (d devCursors) MarshalJSON() ([]byte, error) {
	m := make(map[string]int64, len(d))
	for _, c := range d {
		m[c.dev] = c.seq
	}
	return json.Marshal(m) // keys sorted: the bucket's format
}

func (d *devCursors) UnmarshalJSON(b []byte) error {
	var m map[string]int64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	out := make(devCursors, 0, len(m))
	for dev, seq := range m {
		out = append(out, devCursor{dev, seq})
	}
	slices.SortFunc(out, func(a, b devCursor) int { return strings.Compare(a.dev, b.dev) })
	*d = out
	return nil
}
