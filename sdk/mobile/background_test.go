package plexmobile_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/internal/testmetrics"
	plexmobile "github.com/plexpush/plex/sdk/mobile"
	"github.com/plexpush/plex/server"
)

// The pace of these tests' nodes: a fast normal heartbeat (50 ms: about 50
// frames in the 2.5 s window) and a slow background one (1.5 s: at most 2
// in the window). The normal timeout (1 s) is shorter than the background
// interval, so a node that did not apply background mode would drop the
// connection (a state change), and long enough for a loaded machine.
const (
	fastHeartbeat = 50 * time.Millisecond
	fastTimeout   = time.Second
	slowHeartbeat = 1500 * time.Millisecond
	slowTimeout   = 10 * time.Second

	window = 2500 * time.Millisecond
	// Wide margins on a loaded machine: ≤ 6 in background (1 or 2
	// expected), ≥ 12 in the foreground (~50 expected).
	maxBackgroundFrames = 6
	minForegroundFrames = 12
)

// bgNode starts an echoing node with the paces above and returns it with a
// function that reads how many frames it has received in all.
func bgNode(t *testing.T) (*node, func() float64) {
	t.Helper()
	n := startNode(t, echo(server.Config{
		HeartbeatInterval: fastHeartbeat, HeartbeatTimeout: fastTimeout,
		BackgroundHeartbeatInterval: slowHeartbeat, BackgroundHeartbeatTimeout: slowTimeout,
	}))
	return n, func() float64 { return testmetrics.Value(t, n.Server.Handler(), "plex_frames_in_total", "") }
}

// framesDuring returns how many frames the node received in d.
func framesDuring(d time.Duration, framesIn func() float64) int {
	return int(testmetrics.Growth(d, framesIn))
}

func slowConfig(n *node) *plexmobile.Config {
	cfg := config(n, "alice")
	cfg.BackgroundPolicy = plexmobile.BackgroundSlowHeartbeat
	return cfg
}

// BackgroundSlowHeartbeat keeps the connection (no state change) at the
// background pace; pushes and Send still work; EnterForeground returns to
// the normal pace.
func TestBackgroundSlowHeartbeat(t *testing.T) {
	leakCheck(t)
	n, framesIn := bgNode(t)
	c, r := newClient(t, slowConfig(n))
	require.NoError(t, c.Connect())
	r.expectStates(t, plexmobile.StateConnecting, plexmobile.StateOnline)

	require.NoError(t, c.EnterBackground())
	require.NoError(t, c.EnterBackground(), "twice is harmless")
	n.WaitMetric("plex_background_connections", 1)
	bg := framesDuring(window, framesIn)
	t.Logf("background: %d frames in %v", bg, window)
	require.LessOrEqual(t, bg, maxBackgroundFrames, "heartbeats at the normal pace in background")
	r.noState(t, 10*time.Millisecond)
	require.EqualValues(t, plexmobile.StateOnline, c.State())

	seq := n.PushText("alice", "/p", "in background", true).Seq
	require.Equal(t, msg{"/p", "in background", seq}, r.nextMsg(t))
	require.NoError(t, c.Send("/up", []byte("from background")))
	require.Equal(t, msg{"/up", "from background", 0}, r.nextMsg(t), "Send works in background")

	require.NoError(t, c.EnterForeground())
	n.WaitMetric("plex_background_connections", 0)
	fg := framesDuring(window, framesIn)
	t.Logf("foreground: %d frames in %v", fg, window)
	require.GreaterOrEqual(t, fg, minForegroundFrames, "still at the background pace in the foreground")
	r.noState(t, 10*time.Millisecond)
	require.EqualValues(t, plexmobile.StateOnline, c.State())
}

// A session started while in background asks for background mode from its
// first connection, and a reconnect (the node goes away, the next one in
// Addrs takes over) stays in background mode.
func TestBackgroundSlowHeartbeatNewSessionAndReconnect(t *testing.T) {
	leakCheck(t)
	n1, framesIn1 := bgNode(t)
	n2, framesIn2 := bgNode(t)
	cfg := slowConfig(n1)
	cfg.Addrs = n1.Addr + "," + n2.Addr // round-robin from the first
	c, r := newClient(t, cfg)
	require.NoError(t, c.EnterBackground()) // before Connect: the session starts in background
	require.NoError(t, c.Connect())
	r.expectStates(t, plexmobile.StateConnecting, plexmobile.StateOnline)
	require.True(t, n1.Server.Online(server.User("alice")), "the first address first")

	n1.WaitMetric("plex_background_connections", 1)
	bg1 := framesDuring(window, framesIn1)
	t.Logf("background, first connection: %d frames in %v", bg1, window)
	require.LessOrEqual(t, bg1, maxBackgroundFrames)
	r.noState(t, 10*time.Millisecond)

	n1.Stop()
	r.waitState(t, plexmobile.StateReconnecting)
	r.waitState(t, plexmobile.StateOnline)
	require.True(t, n2.Server.Online(server.User("alice")))
	n2.WaitMetric("plex_background_connections", 1)
	bg2 := framesDuring(window, framesIn2)
	t.Logf("background, after reconnecting: %d frames in %v", bg2, window)
	require.LessOrEqual(t, bg2, maxBackgroundFrames, "the reconnect left background mode")
	r.noState(t, 10*time.Millisecond)
	n2.PushText("alice", "/p", "after reconnect", false)
	require.Equal(t, "after reconnect", r.nextMsg(t).body)
}
