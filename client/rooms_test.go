package client_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

func allowRooms(*server.Session, string, bool) bool { return true }

// nextBodies pushes a marker to uid and returns the bodies a received up
// to and including it: proof that nothing else (a room push that should
// not arrive, an /error that belongs to a caller) came first, without
// waiting for an absence.
func nextBodies(t *testing.T, pc *client.PlexClient, a *app, uid string) []string {
	t.Helper()
	res, err := pc.Send(ctxT(t), uid, "/marker", []byte("marker"))
	require.NoError(t, err)
	require.Positive(t, res.Delivered)
	var got []string
	for {
		m := a.recv(t)
		got = append(got, string(m.Body))
		if m.URI == "/marker" {
			return got
		}
	}
}

// JoinRoom makes the user a member (room pushes arrive), LeaveRoom ends
// it; membership is the user's, so a leave from another device ends it
// for every device.
func TestConnJoinLeaveRoom(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{RoomAuthorizer: allowRooms})
	pc := pusher(t, client.Config{Addrs: []string{n.Addr}})
	phone := dialApp(t, n.Addr, "alice", client.ConnConfig{Device: "phone"})
	laptop := dialApp(t, n.Addr, "alice", client.ConnConfig{Device: "laptop"})
	ctx := ctxT(t)

	require.NoError(t, phone.JoinRoom(ctx, "r1"))
	require.NoError(t, phone.JoinRoom(ctx, "r1"), "joining twice is fine")
	require.Equal(t, []string{"alice"}, n.Members(server.Room("r1")))
	res, err := pc.SendRoom(ctx, "r1", "/room", []byte("one"))
	require.NoError(t, err)
	require.Equal(t, 2, res.Delivered, "both devices of the member")
	require.Equal(t, "one", string(phone.recv(t).Body))
	require.Equal(t, "one", string(laptop.recv(t).Body))

	require.NoError(t, laptop.LeaveRoom(ctx, "r1"))
	require.Empty(t, n.Members(server.Room("r1")))
	res, err = pc.SendRoom(ctx, "r1", "/room", []byte("two"))
	require.NoError(t, err)
	require.Zero(t, res.Delivered, "the laptop's leave ended the user's membership")
	require.Equal(t, []string{"marker"}, nextBodies(t, pc, phone, "alice"), "no room push after the leave")
	require.NoError(t, phone.LeaveRoom(ctx, "r1"), "leaving a room one is not in succeeds")
}

// Refusals come back to the caller as the node's code, and never reach
// OnMessage; what the node would refuse anyway is refused locally.
func TestConnRoomRefused(t *testing.T) {
	leakCheck(t)
	for _, tc := range []struct {
		name string
		auth func(*server.Session, string, bool) bool
		room string
		want pack.Code
	}{
		{"no authorizer: server-managed rooms", nil, "r1", pack.CodeForbidden},
		{"authorizer says no", func(_ *server.Session, room string, _ bool) bool { return room != "vip" }, "vip", pack.CodeForbidden},
		{"empty name", allowRooms, "", pack.CodeBadRequest},
		{"not UTF-8", allowRooms, "\xff", pack.CodeBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, server.Config{RoomAuthorizer: tc.auth})
			a := dialApp(t, n.Addr, "alice", client.ConnConfig{})
			ctx := ctxT(t)
			for _, op := range []func(context.Context, string) error{a.JoinRoom, a.LeaveRoom} {
				err := op(ctx, tc.room)
				require.ErrorIs(t, err, tc.want, "got %v", err)
				var ce *pack.CodeError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, tc.want, ce.Code)
			}
			require.Empty(t, n.Members(server.Room(tc.room)))
			pc := pusher(t, client.Config{Addrs: []string{n.Addr}})
			require.Equal(t, []string{"marker"}, nextBodies(t, pc, a, "alice"), "an answer to a request is not a message")
		})
	}
}

// The node keeps membership when a connection closes, so a reconnect
// finds it in place; the Conn does not re-join (that would undo a leave
// made meanwhile by another device or by the server).
func TestConnRoomSurvivesReconnect(t *testing.T) {
	leakCheck(t)
	var joins atomic.Int64
	n := startNode(t, server.Config{RoomAuthorizer: func(_ *server.Session, _ string, join bool) bool {
		if join {
			joins.Add(1)
		}
		return true
	}})
	pc := pusher(t, client.Config{Addrs: []string{n.Addr}})
	a := dialApp(t, n.Addr, "alice", client.ConnConfig{})
	ctx := ctxT(t)
	require.NoError(t, a.JoinRoom(ctx, "r1"))

	require.True(t, a.KillConnection())
	a.waitState(t, client.StateReconnecting)
	a.waitState(t, client.StateOnline)
	res, err := pc.SendRoom(ctx, "r1", "/room", []byte("after reconnect"))
	require.NoError(t, err)
	require.Equal(t, 1, res.Delivered)
	require.Equal(t, []string{"after reconnect", "marker"}, nextBodies(t, pc, a, "alice"))
	require.Equal(t, int64(1), joins.Load(), "no re-join after the reconnect")

	// A leave by the server while the app was away stays in force.
	require.True(t, a.KillConnection())
	a.waitState(t, client.StateReconnecting)
	n.Leave(server.Room("r1"), "alice")
	a.waitState(t, client.StateOnline)
	res, err = pc.SendRoom(ctx, "r1", "/room", []byte("kicked"))
	require.NoError(t, err)
	require.Zero(t, res.Delivered)
}

// A request issued while the Conn reconnects waits and goes out on the
// next connection.
func TestConnRequestWaitsWhileReconnecting(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{RoomAuthorizer: allowRooms})
	pc := pusher(t, client.Config{Addrs: []string{n.Addr}})
	a := dialApp(t, n.Addr, "alice", client.ConnConfig{Backoff: client.Backoff{Min: 300 * time.Millisecond, Max: 300 * time.Millisecond}})
	require.True(t, a.KillConnection())
	a.waitState(t, client.StateReconnecting)
	require.NoError(t, a.JoinRoom(ctxT(t), "r1")) // issued during the backoff (most likely)
	require.Equal(t, []string{"alice"}, n.Members(server.Room("r1")))
	res, err := pc.SendRoom(ctxT(t), "r1", "/room", []byte("in"))
	require.NoError(t, err)
	require.Equal(t, 1, res.Delivered)

	// ctx already ended: ctx's error, nothing sent (TestConnMessageNodeDown
	// has ctx ending during the wait).
	require.True(t, a.KillConnection())
	a.waitState(t, client.StateReconnecting)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = a.LeaveRoom(ctx, "r1")
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, client.ErrOutcomeUnknown)
	require.Equal(t, []string{"alice"}, n.Members(server.Room("r1")))

	require.NoError(t, a.Close())
	require.ErrorIs(t, a.JoinRoom(ctxT(t), "r2"), client.ErrClosed)
}

// swallowingNode authenticates every connection, then reads until a frame
// with one of uris arrives, reports it and either closes the connection
// (hold false) or keeps it open without answering (hold true).
func swallowingNode(t *testing.T, hold bool, uris ...string) (addr string, got <-chan pack.Message) {
	ch := make(chan pack.Message, 100)
	addr, _ = scriptedNode(t, `{"heartbeat_ms":30000,"timeout_ms":75000}`, func(c net.Conn, r *pack.Reader) {
		for {
			var m pack.Message
			if r.ReadMessage(&m) != nil {
				return
			}
			for _, u := range uris {
				if m.URI == u {
					ch <- m
					if !hold {
						c.Close()
						return
					}
				}
			}
		}
	})
	return addr, ch
}

// A request written to a connection that dies before the answer, or whose
// ctx ends after it was written, reports ErrOutcomeUnknown: never success
// without the node's reply, never a silent retry.
func TestConnRequestOutcomeUnknown(t *testing.T) {
	leakCheck(t)
	t.Run("connection lost", func(t *testing.T) {
		addr, got := swallowingNode(t, false, pack.URIRoomJoin, pack.URIMessage)
		a := dialApp(t, addr, "alice", client.ConnConfig{})
		err := a.JoinRoom(ctxT(t), "r1")
		require.ErrorIs(t, err, client.ErrOutcomeUnknown, "got %v", err)
		require.Equal(t, "r1", string(recvT(t, got, "the join").Body))

		res, err := a.Message(ctxT(t), "bob", []byte("hi"))
		require.ErrorIs(t, err, client.ErrOutcomeUnknown, "got %v", err)
		require.Zero(t, res)
		m := recvT(t, got, "the message")
		require.Positive(t, m.Seq, "a request id")
		require.JSONEq(t, `{"to":"bob","body":"hi"}`, string(m.Body))
		select {
		case m := <-got:
			t.Fatalf("the request was written again: %v", m)
		default:
		}
	})
	t.Run("ctx ends after the write", func(t *testing.T) {
		addr, got := swallowingNode(t, true, pack.URIRoomLeave)
		a := dialApp(t, addr, "alice", client.ConnConfig{})
		ctx, cancel := context.WithCancel(ctxT(t))
		errc := make(chan error, 1)
		go func() { errc <- a.LeaveRoom(ctx, "r1") }()
		recvT(t, got, "the leave")
		cancel()
		err := recvT(t, errc, "LeaveRoom's return")
		require.ErrorIs(t, err, client.ErrOutcomeUnknown, "got %v", err)
		require.ErrorIs(t, err, context.Canceled)
		require.False(t, errors.Is(err, pack.CodeForbidden))
	})
}
