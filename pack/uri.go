package pack

// Reserved URIs. The first six are the original plex protocol and keep their
// meaning; the rest are additive (docs/protocol.md §URIs lists direction and
// body/meta schema of each). Apps may use any other URI for their own
// upstream messages; URIs under /inner/ and /logic/ are push-only and a node
// refuses them from app connections.
const (
	// URIAuth: app → node, body = the app's token. Must be the first frame.
	URIAuth = "/auth/server"
	// URIAuthSuccess: node → peer, body = JSON session facts (AuthInfo).
	URIAuthSuccess = "/auth/success"
	// URIAuthFailed: node → app, body = reason; the node then closes.
	URIAuthFailed = "/auth/failed"
	// URIHeartbeat: both ways; the node echoes it.
	URIHeartbeat = "/heartbeat"
	// URIInnerAuth: push client → node, body = the inner secret.
	URIInnerAuth = "/inner/auth/server"
	// URILegacyPush: push client → node, body = JSON {"uid","uri","body"}.
	// The original fire-and-forget push; no reply.
	URILegacyPush = "/logic/send/msg"

	// URIAck: app → node, cumulative ack; seq = highest seq the app holds.
	URIAck = "/ack"
	// URIError: node → peer, a non-fatal error; seq repeats the request's,
	// meta "code" and "reason" say what.
	URIError = "/error"
	// URIDisconnect: node → peer, the last frame before the node closes;
	// meta "code" and "reason". The code says whether to reconnect.
	URIDisconnect = "/disconnect"
	// URIRoomJoin and URIRoomLeave: app → node, body = room name; allowed only
	// when the node's room authorizer permits. Replied with URIReply.
	URIRoomJoin  = "/room/join"
	URIRoomLeave = "/room/leave"
	// URIPush: push client → node, request/reply push; seq = request id,
	// body = JSON PushRequest. Replied with URIReply (same seq) or URIError.
	URIPush = "/inner/push"
	// URIReply: node → peer, the successful outcome of a request; seq repeats
	// the request's, body = JSON outcome.
	URIReply = "/reply"
	// URIMessage: user-to-user messaging. App → node: body = JSON
	// {"to","body","conversation"}, or {"room",...} for every member of a
	// room, seq = request id, answered with URIReply or URIError. Node →
	// app: the delivered message, meta "from" (set by the node, never by
	// the sender), "room" (a room's message), "id", "ts", "conversation".
	URIMessage = "/message"
)

// PushOnly reports whether uri may only be sent by authenticated push
// clients (inner connections), never by apps.
func PushOnly(uri string) bool {
	return hasPrefix(uri, "/inner/") || hasPrefix(uri, "/logic/")
}

// Control reports whether uri is one of the URIs the protocol defines
// (the constants above), which peers interpret as protocol frames. A push
// MUST NOT carry one: an app would take it for the node's own frame.
func Control(uri string) bool {
	switch uri {
	case URIAuth, URIAuthSuccess, URIAuthFailed, URIHeartbeat, URIInnerAuth, URILegacyPush,
		URIAck, URIError, URIDisconnect, URIRoomJoin, URIRoomLeave, URIPush, URIReply, URIMessage:
		return true
	}
	return false
}

// Reserved reports whether uri is one apps must not use for their own
// upstream messages: a protocol URI or a push-only one.
func Reserved(uri string) bool {
	return Control(uri) || PushOnly(uri)
}

// PushURI reports whether a push may carry uri: any non-empty URI but the
// protocol's own (Control). Push-only prefixes are fine here: the original
// plex's senders push app URIs such as /logic/test/1, and apps receive them
// unchanged; the prefixes restrict what apps send, not what they receive.
func PushURI(uri string) bool {
	return uri != "" && !Control(uri)
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
