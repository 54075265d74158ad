package server_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

func heartbeatMode(mode string) pack.Message {
	return pack.Message{URI: pack.URIHeartbeat, Meta: map[string]string{pack.MetaMode: mode}}
}

// TestBackgroundHeartbeat: an app in background mode may stay silent for the
// background timeout, far past the normal one; back in the foreground the
// normal timeout applies again. The echo names the mode the node applied.
func TestBackgroundHeartbeat(t *testing.T) {
	n := startNode(t, server.Config{
		HeartbeatInterval: 100 * time.Millisecond, HeartbeatTimeout: 500 * time.Millisecond,
		BackgroundHeartbeatInterval: time.Second, BackgroundHeartbeatTimeout: 4 * time.Second,
	})
	p := dial(t, n.Addr)
	info := p.auth("alice", nil)
	require.EqualValues(t, 1000, info.BackgroundHeartbeatMS)
	require.EqualValues(t, 4000, info.BackgroundTimeoutMS)

	p.send(heartbeatMode(pack.ModeBackground))
	echo := p.recv()
	require.Equal(t, pack.URIHeartbeat, echo.URI)
	require.Equal(t, pack.ModeBackground, echo.Meta[pack.MetaMode])
	bgConns := func() float64 { return metricValue(t, n, "plex_background_connections", "") }
	require.Equal(t, 1.0, bgConns())

	// Silent for 3 normal timeouts: still connected (a plain heartbeat is
	// echoed, and keeps background mode).
	time.Sleep(1500 * time.Millisecond)
	p.send(pack.Message{URI: pack.URIHeartbeat})
	echo = p.recv()
	require.Equal(t, pack.URIHeartbeat, echo.URI)
	require.Empty(t, echo.Meta)
	time.Sleep(1500 * time.Millisecond)
	require.True(t, n.Online(server.User("alice")))

	p.send(heartbeatMode(pack.ModeForeground))
	require.Equal(t, pack.ModeForeground, p.recv().Meta[pack.MetaMode])
	require.Equal(t, 0.0, bgConns())
	start := time.Now()
	p.expectClosed(pack.URIDisconnect, pack.CodeHeartbeatTimeout)
	t.Logf("closed %v after leaving background mode", time.Since(start))

	// Silent in background mode past the background timeout: closed.
	q := app(t, n.Addr, "bob", nil)
	q.send(heartbeatMode(pack.ModeBackground))
	require.Equal(t, pack.ModeBackground, q.recv().Meta[pack.MetaMode])
	require.Equal(t, 1.0, bgConns())
	q.expectClosed(pack.URIDisconnect, pack.CodeHeartbeatTimeout)
	eventually(t, func() bool { return bgConns() == 0 }, "a closed connection is no longer counted")
}

// TestBackgroundHeartbeatOff: with background mode off the node announces
// nothing, answers mode=background with mode=foreground and keeps the
// normal timeout.
func TestBackgroundHeartbeatOff(t *testing.T) {
	n := startNode(t, server.Config{
		HeartbeatInterval: 100 * time.Millisecond, HeartbeatTimeout: 500 * time.Millisecond,
		BackgroundHeartbeatInterval: -1,
	})
	p := dial(t, n.Addr)
	info := p.auth("alice", nil)
	require.Zero(t, info.BackgroundHeartbeatMS)
	require.Zero(t, info.BackgroundTimeoutMS)
	p.send(heartbeatMode(pack.ModeBackground))
	require.Equal(t, pack.ModeForeground, p.recv().Meta[pack.MetaMode])
	require.Zero(t, metricValue(t, n, "plex_background_connections", ""))
	p.expectClosed(pack.URIDisconnect, pack.CodeHeartbeatTimeout)
}

// TestBackgroundHeartbeatConfig: a background timeout not longer than its
// interval is refused.
func TestBackgroundHeartbeatConfig(t *testing.T) {
	_, err := server.New(server.Config{BackgroundHeartbeatInterval: time.Minute, BackgroundHeartbeatTimeout: time.Minute})
	require.ErrorContains(t, err, "BackgroundHeartbeatTimeout")
}

// TestHeartbeatUnknownMode: a mode the node does not know is a plain
// heartbeat: echoed without a mode, nothing switched.
func TestHeartbeatUnknownMode(t *testing.T) {
	n := startNode(t, server.Config{
		HeartbeatInterval: 100 * time.Millisecond, HeartbeatTimeout: 500 * time.Millisecond,
		BackgroundHeartbeatInterval: time.Minute,
	})
	p := app(t, n.Addr, "alice", nil)
	p.send(heartbeatMode("sideways"))
	echo := p.recv()
	require.Equal(t, pack.URIHeartbeat, echo.URI)
	require.Empty(t, echo.Meta)
	p.expectClosed(pack.URIDisconnect, pack.CodeHeartbeatTimeout) // still the normal timeout
}
