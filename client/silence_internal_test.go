package client

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Silence counts only while the link holds requests, from its last frame
// or from when it began to hold them: an idle node need not speak.
func TestSilenceCountsWhileHoldingRequests(t *testing.T) {
	l := &link{pending: make(map[int64]*request), wake: make(chan struct{}, 1), maxFrame: 1 << 20}
	t0 := time.Now()
	l.lastRead.Store(t0.Add(-time.Minute).UnixNano()) // idle for a minute
	require.Zero(t, l.silentFor(t0), "holds nothing")

	ok, err := l.enqueue(&request{id: 1, frame: make([]byte, 16)})
	require.NoError(t, err)
	require.True(t, ok)
	require.Less(t, l.silentFor(time.Now()), time.Second, "silence starts when the link begins to hold requests")

	now := time.Now()
	changed, suspect := l.watchSilence(now.Add(silentAfter)) // quiet that long: probe
	require.False(t, changed)
	require.False(t, suspect)
	require.True(t, l.wantProbe.Load(), "a heartbeat probe is sent")
	changed, suspect = l.watchSilence(now.Add(2 * silentAfter)) // probe unanswered
	require.True(t, changed)
	require.True(t, suspect)

	l.lastRead.Store(now.Add(2*silentAfter + time.Millisecond).UnixNano()) // the echo
	changed, suspect = l.watchSilence(now.Add(2*silentAfter + 2*time.Millisecond))
	require.True(t, changed)
	require.False(t, suspect, "any frame clears the suspicion")
}
