package server_test

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// dialFrom dials addr from the loopback address src.
func dialFrom(t *testing.T, src, addr string) *peer {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	return dialer(t, d, addr, pack.BigEndian, pack.JSON)
}

// One address holding connections that never log in fills its own share
// of the node, not the node: past MaxPreAuthPerAddress it is refused with
// 3004, other addresses still get in, and a connection that authenticates
// or closes frees its place.
func TestPreAuthConnectionsBoundedPerAddress(t *testing.T) {
	n := startNode(t, server.Config{MaxPreAuthPerAddress: 3, AuthTimeout: time.Minute})
	var silent []*peer
	for range 3 {
		silent = append(silent, dialFrom(t, "127.0.0.1", n.Addr))
	}
	for _, p := range silent { // each is counted once the node has accepted it
		p.send(pack.Message{URI: pack.URIHeartbeat})
		require.Equal(t, pack.URIHeartbeat, p.recv().URI)
	}
	dialFrom(t, "127.0.0.1", n.Addr).expectClosed(pack.URIDisconnect, pack.CodeTooManyConnections)
	require.Equal(t, 1.0, metricValue(t, n, "plex_refused_total", "preauth_per_address"))

	other := dialFrom(t, "127.0.0.2", n.Addr) // another address is not affected
	other.auth("bob", nil)

	silent[0].auth("alice", nil) // logged in: no longer pre-auth
	p := dialFrom(t, "127.0.0.1", n.Addr)
	p.send(pack.Message{URI: pack.URIHeartbeat})
	require.Equal(t, pack.URIHeartbeat, p.recv().URI, "a login freed a place")
	dialFrom(t, "127.0.0.1", n.Addr).expectClosed(pack.URIDisconnect, pack.CodeTooManyConnections)

	silent[1].c.Close() // closed: frees its place
	eventually(t, func() bool {
		q := dialFrom(t, "127.0.0.1", n.Addr)
		q.send(pack.Message{URI: pack.URIHeartbeat})
		m, err := q.tryRecv(5 * time.Second)
		q.c.Close()
		return err == nil && m.URI == pack.URIHeartbeat
	}, "a close freed a place")
}
