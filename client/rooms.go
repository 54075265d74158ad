package client

import (
	"context"
	"unicode/utf8"

	"github.com/plexpush/plex/pack"
)

// Rooms joined by the app itself (/room/join, /room/leave).
//
// Membership belongs to the user, not to a connection: the node keeps it
// when the connection closes, every connection and device of the user
// receives the room's pushes, and a leave from any of them (or from the
// server: Server.Leave, the HTTP API) ends it for all. In a cluster, and
// with plexd's default embedded store, it is durable and cluster-wide: a
// reconnect to any node, or after a node restart, finds it in place.
//
// So a Conn does not re-join rooms after a reconnect. Doing so would undo
// what happened meanwhile: a leave by another device of the user, or the
// server removing the user from a room. The one setup that forgets
// membership is a node embedded without a cluster bus (memory only) that
// restarts; it loses stored pushes too. An app that must be in a room
// whatever happened calls JoinRoom again after StateOnline: joining is
// idempotent.

// JoinRoom makes the user a member of room: the room's pushes then reach
// every connection of the user. It returns nil once the node confirmed
// (/reply), and never without that reply. The node decides with its
// RoomAuthorizer; a node without one manages rooms itself and refuses
// every app: errors.Is(err, pack.CodeForbidden). Other refusals are a
// *pack.CodeError too (pack.CodeBadRequest for an empty room name,
// pack.CodeRateLimited over the connection's frame rate).
//
// It waits within ctx: while the Conn is (re)connecting, the request goes
// out on the next connection. When ctx ends before the request was
// written, the error wraps ctx's error (nothing happened); when the
// connection dies or ctx ends after it was written and before the reply,
// the error is ErrOutcomeUnknown (wrapping the cause). Joining is
// idempotent, so retrying after ErrOutcomeUnknown is safe. After Close it
// returns ErrClosed, after a terminal error that error.
//
// The membership outlives the connection: a reconnect keeps it and the
// Conn does not re-join (see the comment at the top of rooms.go). Do not
// call JoinRoom from OnMessage or OnState: while a callback blocks, the
// Conn stops reading after 1024 queued messages, and the reply may be
// behind them. Call it from another goroutine.
func (c *Conn) JoinRoom(ctx context.Context, room string) error {
	return c.room(ctx, pack.URIRoomJoin, room)
}

// LeaveRoom ends the user's membership of room, for every connection and
// device of the user. Leaving a room the user is not in succeeds. Errors,
// waiting and outcomes are those of JoinRoom; leaving is idempotent too.
func (c *Conn) LeaveRoom(ctx context.Context, room string) error {
	return c.room(ctx, pack.URIRoomLeave, room)
}

func (c *Conn) room(ctx context.Context, uri, room string) error {
	switch {
	case room == "":
		return badRequest("room name required")
	case !utf8.ValidString(room):
		return badRequest("room name is not UTF-8")
	}
	_, err := c.roundTrip(ctx, uri, []byte(room))
	return err
}
