package server

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCloseTimersFinish: a close timer still pending when the node finishes
// runs then, and none runs after finish returned (they used to be
// untracked time.AfterFunc timers firing after Shutdown).
func TestCloseTimersFinish(t *testing.T) {
	var ct closeTimers
	var ran atomic.Int32
	ct.after(time.Hour, func() { ran.Add(1) })
	ct.after(time.Millisecond, func() { ran.Add(1) })
	time.Sleep(50 * time.Millisecond)
	require.Equal(t, int32(1), ran.Load(), "the short one fired")
	require.Equal(t, 1, ct.len())
	ct.finish()
	require.Equal(t, int32(2), ran.Load(), "the pending one ran at finish")
	require.Zero(t, ct.len())
	ct.after(time.Hour, func() { ran.Add(1) })
	require.Equal(t, int32(3), ran.Load(), "after finish: at once")
}
