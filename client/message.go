package client

import (
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/plexpush/plex/pack"
)

// MessageResult is what the node did with a user-to-user message: the
// /reply body of /message.
type MessageResult struct {
	// ID is the message id the node assigned; the recipient gets it in
	// meta "id".
	ID string `json:"id"`
	// Seq is the message's persistent seq in the recipient's stream.
	Seq int64 `json:"seq"`
	// Delivered is the number of the recipient's connections it was
	// written to; 0 when the recipient is offline: the message is stored
	// and reaches them on their next connection.
	Delivered int `json:"delivered"`
}

// MessageOption adjusts one Message.
type MessageOption func(*messageRequest)

// Conversation sets the message's conversation id, an opaque string that
// the recipient gets in meta "conversation".
func Conversation(id string) MessageOption {
	return func(r *messageRequest) { r.Conversation = id }
}

// messageRequest is the body of an app's /message (docs/protocol.md §8).
type messageRequest struct {
	To           string `json:"to,omitempty"`
	Room         string `json:"room,omitempty"`
	Body         string `json:"body"`
	Conversation string `json:"conversation,omitempty"`
}

// Message sends body to user to of the same app (/message). The node
// stores it as a persistent push for the recipient, so an offline
// recipient gets it on their next connection. The recipient's OnMessage
// receives URI pack.URIMessage with the body and meta "from" (this user's
// uid, set by the node: a sender cannot forge it), "id", "ts",
// "conversation" and "persist".
//
// A nil error always comes with the node's MessageResult. Refusals are a
// *pack.CodeError: pack.CodeForbidden when the app's MessagePolicy says no
// (or the node has none: messaging is off by default), pack.CodeBadRequest
// for a malformed or oversized message, pack.CodeRateLimited over the
// app's push quota or the connection's frame rate, pack.CodeInternal when
// the node could not store it (nothing was stored: retry later),
// pack.CodeOutcomeUnknown (3008, also matching ErrOutcomeUnknown) when the
// node could not tell whether its store kept it. Use errors.Is(err,
// pack.CodeForbidden) or pack.CodeOf(err).
//
// It waits within ctx: while the Conn is (re)connecting, the message goes
// out on the next connection. When ctx ends before it was written, the
// error wraps ctx's error and nothing was sent. When the connection dies
// or ctx ends after it was written and before the reply, the error is
// ErrOutcomeUnknown (wrapping the cause): the message may have been
// delivered, and sending it again may deliver it twice (the node assigns
// each copy its own id). After Close it returns ErrClosed.
//
// body must be UTF-8 (it travels as a JSON string). Do not call Message
// from OnMessage or OnState (see JoinRoom).
func (c *Conn) Message(ctx context.Context, to string, body []byte, opts ...MessageOption) (MessageResult, error) {
	if to == "" {
		return MessageResult{}, badRequest("message needs a recipient")
	}
	var res MessageResult
	err := c.message(ctx, messageRequest{To: to}, body, opts, &res)
	return res, err
}

// RoomMessageResult is what the node did with a message to a room: the
// /reply body of /message with "room".
type RoomMessageResult struct {
	// ID is the message id the node assigned; every member's copy
	// carries it in meta "id".
	ID string `json:"id"`
	// Seq is the seq of the copy stored for this user (its other
	// connections and devices get it), 0 when this user is not a member.
	// This connection does not receive that copy.
	Seq int64 `json:"seq"`
	// Stored is the number of copies stored, one per member.
	Stored int `json:"stored"`
	// Delivered is the number of connections the copies were written to,
	// this one not counted; members offline get theirs on their next
	// connection.
	Delivered int `json:"delivered"`
}

// MessageRoom sends body to every member of room (/message with "room",
// docs/protocol.md §8.1). Each member, this user included, gets its own
// stored copy (so offline members get it on their next connection); this
// connection does not receive it, this user's other connections do. The
// members' OnMessage receives URI pack.URIMessage with meta "from" (this
// user's uid, set by the node), "room", "id", "ts", "conversation" and
// "persist".
//
// By default only members may message a room (the node's
// RoomMessagePolicy decides otherwise). Refusals are a *pack.CodeError:
// pack.CodeForbidden when this user may not message the room (not a
// member, messaging off for the app, or a room over the node's
// MaxRoomMessageMembers), pack.CodeNotFound for a room without members
// that the node would let this user message, and otherwise as for Message
// (a room message takes one message from this user's budget). Waiting,
// ctx, retries and ErrOutcomeUnknown as for Message.
func (c *Conn) MessageRoom(ctx context.Context, room string, body []byte, opts ...MessageOption) (RoomMessageResult, error) {
	if room == "" {
		return RoomMessageResult{}, badRequest("message needs a room")
	}
	var res RoomMessageResult
	err := c.message(ctx, messageRequest{Room: room}, body, opts, &res)
	return res, err
}

// message sends req (its To or Room set) with body and opts, and reads the
// node's /reply into res.
func (c *Conn) message(ctx context.Context, req messageRequest, body []byte, opts []MessageOption, res any) error {
	if !utf8.Valid(body) {
		return badRequest("message body is not UTF-8")
	}
	req.Body = string(body)
	for _, o := range opts {
		o(&req)
	}
	if !utf8.ValidString(req.To) || !utf8.ValidString(req.Room) || !utf8.ValidString(req.Conversation) {
		return badRequest("recipient, room or conversation id is not UTF-8")
	}
	b, err := json.Marshal(&req)
	if err != nil {
		return err
	}
	m, err := c.roundTrip(ctx, pack.URIMessage, b)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(m.Body, res); err != nil {
		return fmt.Errorf("%w: unreadable reply: %v", ErrOutcomeUnknown, err)
	}
	return nil
}
