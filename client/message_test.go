package client_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
	"github.com/plexpush/plex/server"
)

func allowMessages(string, string) bool { return true }

// messageWires are the wires the /message tests run on: the default, and
// the other codec and byte order.
var messageWires = []struct {
	name  string
	order pack.Order
	codec pack.Codec
}{
	{"json", pack.BigEndian, pack.JSON},
	{"protobuf little-endian", pack.LittleEndian, pack.Protobuf},
}

// A message reaches the recipient with the sender's uid set by the node,
// and the sender gets the node's id, seq and delivered count; an offline
// recipient gets it on their next connection.
func TestConnMessage(t *testing.T) {
	leakCheck(t)
	for _, tc := range messageWires {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, server.Config{MessagePolicy: allowMessages, ByteOrder: tc.order})
			cfg := client.ConnConfig{ByteOrder: tc.order, Codec: tc.codec}
			alice := dialApp(t, n.Addr, "alice", cfg)
			bob := dialApp(t, n.Addr, "bob", cfg)
			ctx := ctxT(t)

			res, err := alice.Message(ctx, "bob", []byte("hi bob"), client.Conversation("c1"))
			require.NoError(t, err)
			require.NotEmpty(t, res.ID)
			require.Positive(t, res.Seq)
			require.Equal(t, 1, res.Delivered)
			m := bob.recv(t)
			require.Equal(t, pack.URIMessage, m.URI)
			require.Equal(t, "hi bob", string(m.Body))
			require.Equal(t, res.Seq, m.Seq)
			require.Equal(t, "alice", m.Get(pack.MetaFrom))
			require.Equal(t, res.ID, m.Get(pack.MetaID))
			require.Equal(t, "c1", m.Get(pack.MetaConversation))
			require.Equal(t, "1", m.Get(pack.MetaPersist))
			require.NotEmpty(t, m.Get(pack.MetaTime))

			// Offline: stored, delivered on the next connection.
			res, err = bob.Message(ctx, "carol", []byte("later"))
			require.NoError(t, err)
			require.Zero(t, res.Delivered)
			carol := dialApp(t, n.Addr, "carol", cfg)
			m = carol.recv(t)
			require.Equal(t, "later", string(m.Body))
			require.Equal(t, "bob", m.Get(pack.MetaFrom))
			require.Equal(t, res.ID, m.Get(pack.MetaID))
			require.Empty(t, m.Get(pack.MetaConversation))
		})
	}
}

// A sender cannot forge "from", whatever it puts in its frame: the node
// sets it from the authenticated uid.
func TestConnMessageFromCannotBeForged(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{MessagePolicy: allowMessages})
	bob := dialApp(t, n.Addr, "bob", client.ConnConfig{})

	mallory := dialRaw(t, n.Addr)
	mallory.send(pack.Message{URI: pack.URIAuth, Body: []byte("mallory")})
	require.Equal(t, pack.URIAuthSuccess, mallory.recvSkip().URI)
	body, err := json.Marshal(map[string]string{"to": "bob", "body": "from alice, honest", "from": "alice"})
	require.NoError(t, err)
	mallory.send(pack.Message{Seq: 7, URI: pack.URIMessage, Body: body, Meta: map[string]string{pack.MetaFrom: "alice"}})
	rep := mallory.recvSkip()
	require.Equal(t, pack.URIReply, rep.URI)
	require.Equal(t, int64(7), rep.Seq)

	m := bob.recv(t)
	require.Equal(t, "from alice, honest", string(m.Body))
	require.Equal(t, "mallory", m.Get(pack.MetaFrom))
}

// Refusals are the node's codes, returned to the caller (not to
// OnMessage); what the node would refuse anyway is refused locally.
func TestConnMessageRefused(t *testing.T) {
	leakCheck(t)
	notToBoss := func(_, to string) bool { return to != "boss" }
	for _, tc := range []struct {
		name   string
		policy func(from, to string) bool
		rate   float64
		to     string
		body   string
		want   pack.Code
	}{
		{"messaging off (no policy)", nil, 0, "bob", "hi", pack.CodeForbidden},
		{"policy says no", notToBoss, 0, "boss", "hi", pack.CodeForbidden},
		{"no recipient", allowMessages, 0, "", "hi", pack.CodeBadRequest},
		{"body not UTF-8", allowMessages, 0, "bob", "\xff", pack.CodeBadRequest},
		{"over the app's push quota", allowMessages, 1e-9, "bob", "hi", pack.CodeRateLimited},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, server.Config{MessagePolicy: tc.policy, PushRate: tc.rate, PushBurst: 1})
			a := dialApp(t, n.Addr, "alice", client.ConnConfig{})
			ctx := ctxT(t)
			if tc.rate > 0 {
				_, err := a.Message(ctx, tc.to, []byte(tc.body)) // the burst
				require.NoError(t, err)
			}
			res, err := a.Message(ctx, tc.to, []byte(tc.body))
			require.ErrorIs(t, err, tc.want, "got %v", err)
			code, ok := pack.CodeOf(err)
			require.True(t, ok)
			require.Equal(t, tc.want, code)
			require.Zero(t, res)
			if tc.rate == 0 { // else the quota refuses the marker too
				pc := pusher(t, client.Config{Addrs: []string{n.Addr}})
				require.Equal(t, []string{"marker"}, nextBodies(t, pc, a, "alice"), "an answer to a request is not a message")
			}
		})
	}
}

// With the node down, a Message waits for a connection until ctx ends and
// then reports ctx's error: it was never written, so it is not
// ErrOutcomeUnknown, and never a success.
func TestConnMessageNodeDown(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{MessagePolicy: allowMessages})
	a := dialApp(t, n.Addr, "alice", client.ConnConfig{})
	n.Stop()
	a.waitState(t, client.StateReconnecting)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	res, err := a.Message(ctx, "bob", []byte("into the void"))
	require.ErrorIs(t, err, context.DeadlineExceeded, "got %v", err)
	require.NotErrorIs(t, err, client.ErrOutcomeUnknown)
	require.Zero(t, res)
	require.NotEqual(t, client.StateOnline, a.State())

	// A cancelled ctx: its error, at once, even before any wait.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	_, err = a.Message(ctx, "bob", []byte("x"))
	require.ErrorIs(t, err, context.Canceled)

	require.NoError(t, a.Close())
	_, err = a.Message(ctxT(t), "bob", []byte("x"))
	require.ErrorIs(t, err, client.ErrClosed)
}

// Messages from many goroutines at once each get their own answer: the
// replies are matched by request id, not by order.
func TestConnMessageConcurrent(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{MessagePolicy: func(_, to string) bool { return to != "nobody" }, MessageRate: -1}) // many at once: not the rate under test
	a := dialApp(t, n.Addr, "alice", client.ConnConfig{Logger: plog.Test(t)})
	ctx := ctxT(t)
	const calls = 50
	type result struct {
		i   int
		res client.MessageResult
		err error
	}
	out := make(chan result, calls)
	for i := range calls {
		go func() {
			to := "bob"
			if i%5 == 0 {
				to = "nobody"
			}
			res, err := a.Message(ctx, to, []byte("x"))
			out <- result{i, res, err}
		}()
	}
	ids := map[string]bool{}
	for range calls {
		r := recvT(t, out, "a Message's return")
		if r.i%5 == 0 {
			require.ErrorIs(t, r.err, pack.CodeForbidden, "call %d", r.i)
			continue
		}
		require.NoError(t, r.err, "call %d", r.i)
		require.False(t, ids[r.res.ID], "id %s twice", r.res.ID)
		ids[r.res.ID] = true
	}
	require.Len(t, ids, calls-calls/5)
}
