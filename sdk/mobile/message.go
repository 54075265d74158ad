package plexmobile

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
)

// MessageResult is what the node did with a message (the /reply of
// /message, docs/protocol.md §8.1).
type MessageResult struct {
	// MessageID is the id the node gave the message; every recipient's
	// copy carries it in meta "id".
	MessageID string
	// Seq is the message's persistent seq: to a user, in the recipient's
	// stream; to a room, the seq of this user's own copy (0 when this user
	// is not a member). This connection does not receive that copy.
	Seq int64
	// Stored is the number of copies stored: 1 for a message to a user,
	// one per member for a room. Members offline get theirs on their next
	// connection.
	Stored int64
	// Delivered is the number of connections the copies were written to
	// (for a room, this connection not counted); 0 when every recipient is
	// offline.
	Delivered int64
}

// Message sends body (UTF-8 text) to user "to" of the same app (/message,
// docs/protocol.md §8.1); conversation is an optional opaque id ("" for
// none) the recipient gets in meta "conversation". The recipient's
// Listener.OnMessage receives URI "/message" with meta "from" (this user,
// set by the node), "id", "ts", "persist" and "conversation"; the node
// stores it, so an offline recipient gets it on their next connection.
//
// It blocks until the node answers, up to Config.SendTimeoutMs (waiting
// for a reconnect included): do not call it on the UI thread. The errors
// say whether the message may have been delivered (the prefix, and
// ErrorCode for the node's code):
//
//	plexmobile: message refused: code N: …  the node refused it (4003 not allowed,
//	                                        4004 malformed, 4029 over a quota, 3005
//	                                        not stored): nothing was delivered
//	plexmobile: outcome unknown: …          it may have been delivered (the node
//	                                        answered 3008, or the reply was lost with
//	                                        the connection or after the timeout);
//	                                        sending it again may deliver it twice
//	plexmobile: send failed: …              not sent (timed out while reconnecting)
//	plexmobile: client closed / not connected  not sent
//
// A message that a draining node (docs/protocol.md §13.4) did not answer
// before it closed the connection was not executed: the SDK sends it
// again, once, on the next connection, and Message returns that answer.
// Messaging is off unless the node's app allows it (4003).
func (c *Client) Message(to string, body []byte, conversation string) (res *MessageResult, err error) {
	defer guard(&err)
	var r client.MessageResult
	err = c.message(func(ctx context.Context, conn *client.Conn) (err error) {
		r, err = conn.Message(ctx, to, body, client.Conversation(conversation))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &MessageResult{MessageID: r.ID, Seq: r.Seq, Stored: 1, Delivered: int64(r.Delivered)}, nil
}

// MessageRoom sends body (UTF-8 text) to every member of room (a group
// message, docs/protocol.md §8.1). Each member, this user included, gets
// its own stored copy with meta "room" besides those of Message; this
// connection does not receive it, this user's other devices do. By
// default only members may message a room (4003 otherwise; 4006 for a
// room without members). Blocking, errors and drain as for Message.
func (c *Client) MessageRoom(room string, body []byte, conversation string) (res *MessageResult, err error) {
	defer guard(&err)
	var r client.RoomMessageResult
	err = c.message(func(ctx context.Context, conn *client.Conn) (err error) {
		r, err = conn.MessageRoom(ctx, room, body, client.Conversation(conversation))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &MessageResult{MessageID: r.ID, Seq: r.Seq, Stored: int64(r.Stored), Delivered: int64(r.Delivered)}, nil
}

// message runs send on the current session within Config.SendTimeoutMs
// and says in its error whether the message may have been delivered.
func (c *Client) message(send func(context.Context, *client.Conn) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.set.sendTimeout)
	defer cancel()
	return c.onSession(ctx, func(conn *client.Conn) error {
		err := send(ctx, conn)
		if err == nil {
			return nil
		}
		// The Conn ended before the message was written, or before a
		// draining node's unanswered message could go out again: not
		// sent. Its error may be the node's terminal code, which is no
		// refusal of the message. (onSession retries on the next session
		// when this one was retired.)
		closed := conn.State() == client.StateClosed && !errors.Is(err, client.ErrOutcomeUnknown)
		return messageError(err, closed)
	})
}

// messageError sorts a client.Conn error of Message into the SDK's
// categories; the node's code goes into the text, where ErrorCode finds it.
func messageError(err error, closed bool) error {
	var ce *pack.CodeError
	coded := errors.As(err, &ce)
	switch {
	case closed:
		return fmt.Errorf("%w: %w", errClosed, err)
	case errors.Is(err, client.ErrOutcomeUnknown) && coded && ce.Code == pack.CodeOutcomeUnknown: // the node's 3008
		return fmt.Errorf("%w: code %d: %s", errOutcomeUnknown, ce.Code, reasonOf(ce))
	case errors.Is(err, client.ErrOutcomeUnknown):
		return fmt.Errorf("%w: %w", errOutcomeUnknown, err)
	case coded:
		return fmt.Errorf("%w: code %d: %s", errRefused, ce.Code, reasonOf(ce))
	}
	return fmt.Errorf("%w: %w", errSendFailed, err)
}

func reasonOf(ce *pack.CodeError) string {
	if ce.Reason == "" {
		return ce.Code.String()
	}
	return ce.Reason
}

var codeInError = regexp.MustCompile(`^plexmobile: (?:message refused|outcome unknown): code (\d+)`)

// ErrorCode returns the node's code (docs/protocol.md §13.2) in the
// message of an error returned by Message or MessageRoom ("plexmobile:
// message refused: code 4003: …" gives 4003), or 0 when the error carries
// none. Java: Plexmobile.errorCode(e.getMessage()); Swift:
// PlexmobileErrorCode(error.localizedDescription).
func ErrorCode(errorMessage string) (code int64) {
	defer func() {
		if recover() != nil {
			code = 0
		}
	}()
	m := codeInError.FindStringSubmatch(errorMessage)
	if m == nil {
		return 0
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0
	}
	return n
}
