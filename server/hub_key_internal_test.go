package server

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHubShardHashCollision: two users whose uids hash alike share the
// shard key of the single-connection map. Each must see exactly its own
// connections whatever the order of logins and logouts: the second user
// lives in the several-connections map, even with one connection.
func TestHubShardHashCollision(t *testing.T) {
	h := newHub()
	sh := &h.shards[0]
	const k = 42
	a1, a2 := &Session{uid: "a"}, &Session{uid: "a"}
	b1 := &Session{uid: "b"}
	conns := func(uid string) []*Session {
		if s := sh.lookup(k, key(uid)); s != nil {
			return []*Session{s}
		}
		return sh.multi[key(uid)]
	}

	first, _ := sh.add(k, a1, false)
	require.True(t, first)
	first, _ = sh.add(k, b1, false)
	require.True(t, first, "b's first connection, though a holds the key")
	require.Equal(t, []*Session{a1}, conns("a"))
	require.Equal(t, []*Session{b1}, conns("b"))

	first, _ = sh.add(k, a2, false)
	require.False(t, first)
	require.Equal(t, []*Session{a1, a2}, conns("a"))
	require.Equal(t, []*Session{b1}, conns("b"))
	require.Nil(t, sh.one[k], "a moved to multi; b stays there")

	last, found := sh.remove(k, a1)
	require.True(t, found)
	require.False(t, last)
	require.Equal(t, []*Session{a2}, conns("a"))
	last, found = sh.remove(k, b1)
	require.True(t, found)
	require.True(t, last, "b's only connection, from multi")
	require.Empty(t, conns("b"))
	require.Equal(t, []*Session{a2}, conns("a"))

	b2 := &Session{uid: "b"}
	first, _ = sh.add(k, b2, false)
	require.True(t, first)
	last, found = sh.remove(k, a2)
	require.True(t, found)
	require.True(t, last)
	require.Empty(t, conns("a"))
	require.Equal(t, []*Session{b2}, conns("b"))
	last, found = sh.remove(k, a2)
	require.False(t, found, "removed twice")
	require.False(t, last)
	last, _ = sh.remove(k, b2)
	require.True(t, last)
	require.Empty(t, sh.one)
	require.Empty(t, sh.multi)
	require.Zero(t, sh.conns)
}
