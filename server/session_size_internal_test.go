package server

import (
	"reflect"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestSessionSize pins the per-connection struct to its size class: it is a
// third of an idle connection's memory (docs/benchmarks.md), and one field
// too many moves every connection to the next class (240 → 256 bytes).
// Order new fields by size, or make room first.
func TestSessionSize(t *testing.T) {
	require.LessOrEqual(t, unsafe.Sizeof(Session{}), uintptr(240))
}

// TestHubEntrySize pins the hub's entry for a user with one connection (most
// users) to a 16-byte map slot: a uid hash and the Session pointer. A string
// key would add 8 bytes, a slice value 16, to every idle connection. The
// cluster link and the JetStream store keep nothing for an idle user
// (TestLinkKeepsNothingForIdleUsers, cluster's TestCursorsIdleUsersCostNothing).
func TestHubEntrySize(t *testing.T) {
	one := reflect.TypeOf(hubShard{}.one)
	require.Equal(t, uintptr(16), one.Key().Size()+one.Elem().Size())
}
