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
	// {"to","body","conversation"}, seq = request id, answered with URIReply
	// or URIError. Node → app: the delivered message, meta "from" (set by
	// the node, never by the sender), "id", "ts", "conversation".
	URIMessage = "/message"
)

// PushOnly reports whether uri may only be sent by authenticated push
// clients (inner connections), never by apps.
func PushOnly(uri string) bool {
	return hasPrefix(uri, "/inner/") || hasPrefix(uri, "/logic/")
}

// Reserved reports whether uri is one the protocol defines; apps must not
// use it for their own upstream messages.
func Reserved(uri string) bool {
	switch uri {
	case URIAuth, URIAuthSuccess, URIAuthFailed, URIHeartbeat, URIAck, URIError,
		URIDisconnect, URIRoomJoin, URIRoomLeave, URIReply, URIMessage:
		return true
	}
	return PushOnly(uri)
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
