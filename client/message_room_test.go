package client_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// MessageRoom reaches every member of the room with "from" and "room" set
// by the node, this user's other device included; the sending Conn gets
// the node's result, not its own copy.
func TestConnMessageRoom(t *testing.T) {
	leakCheck(t)
	for _, tc := range messageWires {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, server.Config{MessagePolicy: allowMessages, ByteOrder: tc.order})
			for _, uid := range []string{"alice", "bob", "carol"} {
				require.NoError(t, n.Join(server.Room("team"), uid))
			}
			cfg := func(device string) client.ConnConfig {
				return client.ConnConfig{ByteOrder: tc.order, Codec: tc.codec, Device: device}
			}
			phone := dialApp(t, n.Addr, "alice", cfg("phone"))
			laptop := dialApp(t, n.Addr, "alice", cfg("laptop"))
			bob := dialApp(t, n.Addr, "bob", cfg("b"))
			ctx := ctxT(t)

			res, err := phone.MessageRoom(ctx, "team", []byte("hi team"), client.Conversation("c1"))
			require.NoError(t, err)
			require.NotEmpty(t, res.ID)
			require.Equal(t, client.RoomMessageResult{ID: res.ID, Seq: 1, Stored: 3, Delivered: 2}, res)
			for _, a := range []*app{bob, laptop} {
				m := a.recv(t)
				require.Equal(t, pack.URIMessage, m.URI)
				require.Equal(t, "hi team", string(m.Body))
				require.Equal(t, "alice", m.Get(pack.MetaFrom))
				require.Equal(t, "team", m.Get(pack.MetaRoom))
				require.Equal(t, res.ID, m.Get(pack.MetaID))
				require.Equal(t, "c1", m.Get(pack.MetaConversation))
			}
			pc := pusher(t, client.Config{Addrs: []string{n.Addr}, ByteOrder: tc.order})
			require.Equal(t, []string{"marker"}, nextBodies(t, pc, phone, "alice"), "the sending Conn does not get its own copy")

			// carol, offline, gets hers on her next connection
			carol := dialApp(t, n.Addr, "carol", cfg("c"))
			m := carol.recv(t)
			require.Equal(t, "hi team", string(m.Body))
			require.Equal(t, "alice", m.Get(pack.MetaFrom))
		})
	}
}

// Refusals of MessageRoom are the node's codes; an empty room is refused
// locally.
func TestConnMessageRoomRefused(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{MessagePolicy: allowMessages})
	require.NoError(t, n.Join(server.Room("team"), "bob"))
	a := dialApp(t, n.Addr, "alice", client.ConnConfig{})
	ctx := ctxT(t)
	for _, tc := range []struct {
		room string
		want pack.Code
	}{
		{"team", pack.CodeForbidden}, // not a member
		{"", pack.CodeBadRequest},
		{"te\x01am", pack.CodeBadRequest},
	} {
		res, err := a.MessageRoom(ctx, tc.room, []byte("hi"))
		require.ErrorIs(t, err, tc.want, "room %q: got %v", tc.room, err)
		require.Zero(t, res)
	}
}
