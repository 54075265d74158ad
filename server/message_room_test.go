package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// roomMessage sends /message {"room","body"} and returns the node's answer
// (skipping heartbeats).
func (p *peer) roomMessage(seq int64, room, body string) pack.Message {
	p.t.Helper()
	b, err := json.Marshal(map[string]string{"room": room, "body": body})
	require.NoError(p.t, err)
	p.send(pack.Message{Seq: seq, URI: pack.URIMessage, Body: b})
	return p.recvSkipHeartbeat()
}

// roomReply is the /reply body of a room /message.
type roomReply struct {
	ID        string `json:"id"`
	Seq       int64  `json:"seq"`
	Stored    int    `json:"stored"`
	Delivered int    `json:"delivered"`
}

// requireNothingBut asserts that p's next frame is a heartbeat echo: p
// received nothing else in between (the node writes in order).
func (p *peer) requireNothingBut(what string) {
	p.t.Helper()
	p.send(pack.Message{URI: pack.URIHeartbeat})
	m := p.recv()
	require.Equal(p.t, pack.URIHeartbeat, m.URI, "%s: got %+v", what, m)
}

func requireCode(t *testing.T, m pack.Message, seq int64, code pack.Code, reason string) {
	t.Helper()
	require.Equal(t, pack.URIError, m.URI, "want /error %d, got %+v", code, m)
	require.Equal(t, seq, m.Seq)
	require.Equal(t, code, pack.ErrorOf(&m).Code, "code of %+v", m)
	require.Contains(t, pack.ErrorOf(&m).Reason, reason)
}

// TestRoomMessage: a /message to a room reaches every member with "from"
// and "room" stamped by the node (a forged "from" is ignored), reaches the
// sender's other connection but not the sending one, and is stored per
// member under the member's own seqs: an offline member gets it on
// reconnect.
func TestRoomMessage(t *testing.T) {
	n := startNode(t, server.Config{MessagePolicy: func(string, string) bool { return true }})
	for _, uid := range []string{"alice", "bob", "carol"} {
		require.NoError(t, n.Join(server.Room("team"), uid))
	}
	acks := func(device string) map[string]string {
		return map[string]string{pack.MetaAcks: "1", pack.MetaDevice: device}
	}
	a1 := app(t, n.Addr, "alice", acks("phone"))
	a2 := app(t, n.Addr, "alice", acks("laptop"))
	bob := app(t, n.Addr, "bob", acks("b"))
	// bob's seqs are ahead of carol's: each member's copy has its own
	n.PushText("bob", "/x", "one", true)
	n.PushText("bob", "/x", "two", true)
	require.Equal(t, int64(1), bob.recv().Seq)
	require.Equal(t, int64(2), bob.recv().Seq)

	a1.send(pack.Message{Seq: 9, URI: pack.URIMessage, Body: []byte(`{"room":"team","body":"hi all","conversation":"c-1"}`),
		Meta: map[string]string{pack.MetaFrom: "mallory", pack.MetaRoom: "elsewhere"}})
	reply := a1.recvSkipHeartbeat()
	require.Equal(t, pack.URIReply, reply.URI, "the sending connection gets the reply, not its own copy: %+v", reply)
	require.Equal(t, int64(9), reply.Seq)
	var r roomReply
	require.NoError(t, json.Unmarshal(reply.Body, &r))
	a1.requireNothingBut("the sending connection")

	check := func(m pack.Message, who string) {
		t.Helper()
		require.Equal(t, pack.URIMessage, m.URI, who)
		require.Equal(t, "hi all", string(m.Body), who)
		require.Equal(t, "alice", m.Get(pack.MetaFrom), who)
		require.Equal(t, "team", m.Get(pack.MetaRoom), who)
		require.Equal(t, "c-1", m.Get(pack.MetaConversation), who)
		require.Equal(t, "1", m.Get(pack.MetaPersist), who)
		require.Equal(t, r.ID, m.Get(pack.MetaID), who)
	}
	mb := bob.recvSkipHeartbeat()
	check(mb, "bob")
	require.Equal(t, int64(3), mb.Seq, "bob's own seq")
	ma := a2.recvSkipHeartbeat()
	check(ma, "alice's other connection")
	require.Equal(t, int64(1), ma.Seq)
	require.Equal(t, roomReply{ID: r.ID, Seq: 1, Stored: 3, Delivered: 2}, r,
		"seq is the sender's own copy; delivered counts bob and alice's laptop")

	carol := app(t, n.Addr, "carol", acks("c"))
	mc := carol.recvSkipHeartbeat()
	check(mc, "carol, offline when it was sent")
	require.Equal(t, int64(1), mc.Seq, "carol's own seq")
}

// TestRoomMessageRefused: the codes of a refused room /message, each
// answered with the request's seq; nothing is delivered.
func TestRoomMessageRefused(t *testing.T) {
	allow := func(string, string) bool { return true }
	n := startNode(t, server.Config{MessagePolicy: allow})
	require.NoError(t, n.Join(server.Room("team"), "bob"))
	dave := app(t, n.Addr, "dave", nil)
	bob := app(t, n.Addr, "bob", nil)

	requireCode(t, dave.roomMessage(1, "team", "let me in"), 1, pack.CodeForbidden, "not a member")
	requireCode(t, dave.roomMessage(2, "nowhere", "x"), 2, pack.CodeForbidden, "not a member") // tells nothing about the room
	for i, body := range []string{
		`{"to":"bob","room":"team","body":"both"}`,
		`{"body":"neither"}`,
		`{"room":"","to":"","body":"empty"}`,
		`{"room":"te\u0001am","body":"not a name"}`,
		`{"room":7,"body":"not a string"}`,
	} {
		dave.send(pack.Message{Seq: int64(10 + i), URI: pack.URIMessage, Body: []byte(body)})
		requireCode(t, dave.recvSkipHeartbeat(), int64(10+i), pack.CodeBadRequest, "")
	}
	bob.requireNothingBut("bob, after refused messages")

	// a room policy that lets anyone post: an empty room is 4006
	open := startNode(t, server.Config{MessagePolicy: allow,
		RoomMessagePolicy: func(_ *server.Session, room string, member bool) bool { return member || room != "closed" }})
	require.NoError(t, open.Join(server.Room("closed"), "bob"))
	eve := app(t, open.Addr, "eve", nil)
	requireCode(t, eve.roomMessage(1, "nowhere", "x"), 1, pack.CodeNotFound, "no members")
	requireCode(t, eve.roomMessage(2, "closed", "x"), 2, pack.CodeForbidden, "not a member")
	require.NoError(t, open.Join(server.Room("lobby"), "bob"))
	require.Equal(t, pack.URIReply, eve.roomMessage(3, "lobby", "hello from outside").URI, "the policy lets a non-member in")

	// messaging off for the app: both forms are 4003
	off := startNode(t, server.Config{})
	require.NoError(t, off.Join(server.Room("team"), "bob"))
	bob2 := app(t, off.Addr, "bob", nil)
	requireCode(t, bob2.roomMessage(1, "team", "x"), 1, pack.CodeForbidden, "not allowed")
}

// TestRoomMessageBounds: a room over MaxRoomMessageMembers is refused with
// 4003 before anything is stored, and a room /message takes one message
// from the sender's budget whatever the room's size (a burst of 2 sends
// two messages to a room of three, then 4029).
func TestRoomMessageBounds(t *testing.T) {
	n := startNode(t, server.Config{MessagePolicy: func(string, string) bool { return true },
		MaxRoomMessageMembers: 3, MessageRate: 0.001, MessageBurst: 2})
	for _, uid := range []string{"alice", "bob", "carol", "dave"} {
		require.NoError(t, n.Join(server.Room("big"), uid))
	}
	for _, uid := range []string{"alice", "bob", "carol"} {
		require.NoError(t, n.Join(server.Room("small"), uid))
	}
	alice := app(t, n.Addr, "alice", nil)
	bob := app(t, n.Addr, "bob", nil)

	requireCode(t, alice.roomMessage(1, "big", "to all four"), 1, pack.CodeForbidden, "room too large")
	bob.requireNothingBut("bob, in the room too large")
	require.Equal(t, pack.URIReply, alice.roomMessage(2, "small", "one").URI)
	require.Equal(t, pack.URIReply, alice.roomMessage(3, "small", "two").URI)
	requireCode(t, alice.roomMessage(4, "small", "three"), 4, pack.CodeRateLimited, "rate")
	require.Equal(t, 1.0, metricValue(t, n, "plex_rate_limited_total", "messages"))
	for _, want := range []string{"one", "two"} {
		require.Equal(t, want, string(bob.recvSkipHeartbeat().Body))
	}
	bob.requireNothingBut("bob, after the refused third")

	off := startNode(t, server.Config{MessagePolicy: func(string, string) bool { return true }, MaxRoomMessageMembers: -1})
	require.NoError(t, off.Join(server.Room("small"), "bob"))
	bob2 := app(t, off.Addr, "bob", nil)
	requireCode(t, bob2.roomMessage(1, "small", strings.Repeat("x", 10)), 1, pack.CodeForbidden, "not allowed")
}
