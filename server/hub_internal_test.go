package server

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHubOneAndMany: a user moves between the single-connection map and the
// several-connections map as connections come and go, and every lookup sees
// exactly the connections that are there.
func TestHubOneAndMany(t *testing.T) {
	h := newHub()
	conns := func(uid string) []*Session {
		var buf [1]*Session // smaller than a user's list: append must grow it
		return h.conns(key(uid), buf[:0])
	}
	a, b, c := &Session{uid: "u"}, &Session{uid: "u"}, &Session{uid: "u"}

	first, replaced := h.add(a, false)
	require.True(t, first)
	require.Nil(t, replaced)
	require.Equal(t, []*Session{a}, conns("u"))
	require.True(t, h.online("u"))

	first, _ = h.add(b, false)
	require.False(t, first)
	first, _ = h.add(c, false)
	require.False(t, first)
	require.Equal(t, []*Session{a, b, c}, conns("u"))
	users, n := h.counts()
	require.Equal(t, [2]int{1, 3}, [2]int{users, n})

	snapshot := conns("u")
	last, found := h.remove(b)
	require.True(t, found)
	require.False(t, last)
	require.Equal(t, []*Session{a, c}, conns("u"))
	require.Equal(t, []*Session{a, b, c}, snapshot, "a lookup's result is not changed by later removals")

	last, found = h.remove(a)
	require.True(t, found)
	require.False(t, last)
	require.Equal(t, []*Session{c}, conns("u"))

	last, found = h.remove(a)
	require.False(t, found, "removed twice")
	require.False(t, last)

	last, found = h.remove(c)
	require.True(t, found)
	require.True(t, last)
	require.Empty(t, conns("u"))
	require.False(t, h.online("u"))
	users, n = h.counts()
	require.Equal(t, [2]int{0, 0}, [2]int{users, n})
}

// TestHubOnePerDevice: a second connection of the same device replaces the
// first, from either map.
func TestHubOnePerDevice(t *testing.T) {
	h := newHub()
	phone1, phone2 := &Session{uid: "u", device: "phone"}, &Session{uid: "u", device: "phone"}
	laptop := &Session{uid: "u", device: "laptop"}

	h.add(phone1, true)
	first, replaced := h.add(phone2, true)
	require.False(t, first)
	require.Same(t, phone1, replaced)
	require.Equal(t, []*Session{phone2}, h.conns("u", nil))

	h.add(laptop, true)
	phone3 := &Session{uid: "u", device: "phone"}
	_, replaced = h.add(phone3, true)
	require.Same(t, phone2, replaced)
	require.ElementsMatch(t, []*Session{laptop, phone3}, h.conns("u", nil))

	var seen []*Session
	h.each(func(s *Session) { seen = append(seen, s) })
	require.ElementsMatch(t, []*Session{laptop, phone3}, seen)
	_, n := h.counts()
	require.Equal(t, 2, n)
}
