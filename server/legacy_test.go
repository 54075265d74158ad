package server_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// The original repository's example/send pushes app URIs under /logic/
// (/logic/test/1, /logic/test/2) through /logic/send/msg, with a non-zero
// seq as the original PlexClient stamps it. Both reach an original app,
// in order and in the original shape (protocol §18).
func TestOriginalSenderPushesLogicURIs(t *testing.T) {
	n := startNode(t, server.Config{})
	a := app(t, n.Addr, "alice", nil)
	p := pusher(t, n.Addr)
	for i, uri := range []string{"/logic/test/1", "/logic/test/2"} {
		p.send(pack.Message{Seq: time.Now().UnixMilli() + int64(i), URI: pack.URILegacyPush,
			Body: []byte(`{"uid":"alice","uri":"` + uri + `","body":"hello"}`)})
	}
	for _, uri := range []string{"/logic/test/1", "/logic/test/2"} {
		require.Equal(t, pack.Message{URI: uri, Body: []byte("hello")}, a.recvSkipHeartbeat())
	}
	require.Zero(t, metricValue(t, n, "plex_legacy_pushes_refused_total", ""))
}

// A legacy push the node must refuse (it carries one of the protocol's own
// URIs, which the app would take for the node's frame) reaches nobody, is
// counted, and the connection keeps working: the original path has no
// reply to carry the refusal.
func TestLegacyPushOfProtocolURIRefusedAndCounted(t *testing.T) {
	n := startNode(t, server.Config{})
	a := app(t, n.Addr, "alice", nil)
	p := pusher(t, n.Addr)
	for _, uri := range []string{pack.URIDisconnect, pack.URIAuthSuccess, pack.URIReply, pack.URIPush} {
		p.send(pack.Message{URI: pack.URILegacyPush, Body: []byte(`{"uid":"alice","uri":"` + uri + `","body":"x"}`)})
	}
	p.send(pack.Message{URI: pack.URILegacyPush, Body: []byte(`{"uid":"alice","uri":"/chat","body":"after"}`)})
	require.Equal(t, pack.Message{URI: "/chat", Body: []byte("after")}, a.recvSkipHeartbeat(),
		"the refused pushes reach nobody; the next one does")
	require.Equal(t, 4.0, metricValue(t, n, "plex_legacy_pushes_refused_total", ""))
}

// The rule for URIs a push may carry (anything but the protocol's own) is
// not the rule for URIs an app may send (nothing push-only either): an app
// still cannot send /logic/*, while a push may deliver it.
func TestPushMayCarryPushOnlyPrefixes(t *testing.T) {
	n := startNode(t, server.Config{})
	a := app(t, n.Addr, "alice", nil)
	out, cerr := pusher(t, n.Addr).push(1, server.PushRequest{UID: "alice", URI: "/inner/note", Body: "x"})
	require.Nil(t, cerr)
	require.Equal(t, 1, out.Delivered)
	require.Equal(t, "/inner/note", a.recvSkipHeartbeat().URI)

	a.send(pack.Message{Seq: 3, URI: "/logic/test/1"})
	m := a.recvSkipHeartbeat()
	require.Equal(t, pack.URIError, m.URI)
	require.Equal(t, pack.CodeForbidden, pack.ErrorOf(&m).Code, "apps still cannot send push-only URIs")
}
