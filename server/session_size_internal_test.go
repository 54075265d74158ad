package server

import (
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
