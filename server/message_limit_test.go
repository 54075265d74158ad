package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// TestMessageLimits: a user's /message is bounded in rate (per user,
// across connections: 4029 beyond the burst) and size (4004), so that one
// user cannot make the node store without bound; another user keeps
// their own budget.
func TestMessageLimits(t *testing.T) {
	n := startNode(t, server.Config{MessagePolicy: func(string, string) bool { return true },
		MessageRate: 0.001, MessageBurst: 3, MaxMessageBytes: 1000})
	send := func(p *peer, seq int64, to, body string) pack.Message {
		b, err := json.Marshal(map[string]string{"to": to, "body": body})
		require.NoError(t, err)
		p.send(pack.Message{Seq: seq, URI: pack.URIMessage, Body: b})
		return p.recvSkipHeartbeat()
	}
	a1 := app(t, n.Addr, "alice", nil)
	a2 := app(t, n.Addr, "alice", nil)
	bob := app(t, n.Addr, "bob", nil)

	r := send(a1, 1, "nobody", strings.Repeat("x", 1001))
	require.Equal(t, pack.URIError, r.URI)
	require.Equal(t, pack.CodeBadRequest, pack.ErrorOf(&r).Code, "too large")

	require.Equal(t, pack.URIReply, send(a1, 2, "nobody", "1").URI)
	require.Equal(t, pack.URIReply, send(a2, 3, "nobody", "2").URI)
	require.Equal(t, pack.URIReply, send(a1, 4, "nobody", strings.Repeat("x", 1000)).URI)
	r = send(a2, 5, "nobody", "4")
	require.Equal(t, pack.URIError, r.URI, "the burst is per user, across connections")
	require.Equal(t, pack.CodeRateLimited, pack.ErrorOf(&r).Code)
	require.Equal(t, 1.0, metricValue(t, n, "plex_rate_limited_total", "messages"))

	require.Equal(t, pack.URIReply, send(bob, 6, "nobody", "mine").URI, "another user's budget")
}
