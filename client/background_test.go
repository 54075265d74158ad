package client_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/internal/testmetrics"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// bgNode is a node with a fast normal pace (50 ms heartbeats, dead after
// 1 s: generous, the machine may be loaded) and a slow background one (1 s, dead after 5 s), counting the
// frames it receives.
func bgNode(t *testing.T) (*node, func() float64) {
	n := startNode(t, server.Config{
		HeartbeatInterval: 50 * time.Millisecond, HeartbeatTimeout: time.Second,
		BackgroundHeartbeatInterval: time.Second, BackgroundHeartbeatTimeout: 5 * time.Second,
	})
	return n, func() float64 { return testmetrics.Value(t, n.Handler(), "plex_frames_in_total", "") }
}

// framesDuring returns how many frames the node received in d.
func framesDuring(d time.Duration, framesIn func() float64) int {
	return int(testmetrics.Growth(d, framesIn))
}

// TestConnBackground: in background mode a Conn heartbeats at the node's
// background interval and stays connected far past the normal timeout; back
// in the foreground it heartbeats at the normal pace again. The window is
// 2.5 s: ~50 heartbeats at the normal pace, 2 or 3 at the background one.
func TestConnBackground(t *testing.T) {
	leakCheck(t)
	n, framesIn := bgNode(t)
	a := dialApp(t, n.Addr, "alice", client.ConnConfig{})
	a.waitState(t, client.StateOnline)

	a.SetBackground(true)
	n.WaitMetric("plex_background_connections", 1)
	bg := framesDuring(2500*time.Millisecond, framesIn)
	t.Logf("background: %d frames in 2.5 s", bg)
	require.LessOrEqual(t, bg, 6, "heartbeats at the normal pace in background")
	require.Empty(t, a.states, "the connection changed state in background")
	_, err := n.Push(ctxT(t), server.User("alice"), pack.Message{URI: "/p", Body: []byte("still here")})
	require.NoError(t, err)
	require.Equal(t, "still here", string(a.recv(t).Body))

	a.SetBackground(false)
	n.WaitMetric("plex_background_connections", 0)
	fg := framesDuring(2500*time.Millisecond, framesIn)
	t.Logf("foreground: %d frames in 2.5 s", fg)
	require.GreaterOrEqual(t, fg, 12, "still at the background pace in the foreground")
	require.Empty(t, a.states)
}

// TestConnBackgroundSurvivesReconnect: background mode is asked for again
// on every new connection.
func TestConnBackgroundSurvivesReconnect(t *testing.T) {
	leakCheck(t)
	n1, _ := bgNode(t)
	n2, framesIn2 := bgNode(t)
	a := newApp(t, client.ConnConfig{Addrs: []string{n1.Addr, n2.Addr}, Token: "alice"})
	a.SetBackground(true) // before Connect: applies to the first connection too
	require.NoError(t, a.Connect(ctxT(t)))
	n1.Stop()
	a.waitState(t, client.StateReconnecting)
	a.waitState(t, client.StateOnline)
	n2.WaitMetric("plex_background_connections", 1)
	bg := framesDuring(2500*time.Millisecond, framesIn2)
	t.Logf("background after reconnecting: %d frames in 2.5 s", bg)
	require.LessOrEqual(t, bg, 6)
	require.Empty(t, a.states)
}

// TestConnBackgroundOff: against a node without background mode the Conn
// keeps the normal pace (and stays connected).
func TestConnBackgroundOff(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{
		HeartbeatInterval: 50 * time.Millisecond, HeartbeatTimeout: time.Second,
		BackgroundHeartbeatInterval: -1,
	})
	a := dialApp(t, n.Addr, "alice", client.ConnConfig{})
	a.waitState(t, client.StateOnline)
	a.SetBackground(true)
	time.Sleep(time.Second)
	require.Empty(t, a.states, "a node without background mode dropped the connection")
	require.True(t, n.Online(server.User("alice")))
}
