package pack

// Standard meta keys (docs/protocol.md §Meta). Values are strings; numbers are
// written in decimal. Unknown keys are ignored by every peer.
const (
	// MetaVersion: on URIAuth, the client's protocol version ("1").
	MetaVersion = "v"
	// MetaDevice: on URIAuth, a stable id of the device/installation.
	MetaDevice = "device"
	// MetaAcks: on URIAuth, "1" when the app acks persistent pushes.
	MetaAcks = "acks"
	// MetaResume: on URIAuth, the highest seq the app already holds.
	MetaResume = "resume"
	// MetaID: on a push, the server-assigned message id.
	MetaID = "id"
	// MetaTime: on a push, the server's accept time, Unix milliseconds.
	MetaTime = "ts"
	// MetaCode: on URIError, URIDisconnect and URIAuthFailed, the numeric Code.
	MetaCode = "code"
	// MetaReason: human-readable reason accompanying MetaCode.
	MetaReason = "reason"
	// MetaPersist: on a push to an app, "1" when it was stored and must be acked.
	MetaPersist = "persist"
	// MetaApp: on URIAuth, the app (tenant) the client belongs to; absent
	// means the node's default app.
	MetaApp = "app"
	// MetaFrom: on a URIMessage delivery, the sender's uid, set by the node.
	MetaFrom = "from"
	// MetaConversation: on URIMessage, an opaque conversation id passed through.
	MetaConversation = "conversation"
	// MetaRoom: on a URIMessage delivery sent to a room, the room's name,
	// set by the node (absent on a message to one user).
	MetaRoom = "room"
	// MetaMode: on URIHeartbeat from an app, ModeBackground or
	// ModeForeground asks the node to switch the connection's heartbeat
	// timeout; the node's echo carries the mode it applied (docs/protocol.md §11.1).
	MetaMode = "mode"
)

// Heartbeat modes (MetaMode).
const (
	// ModeBackground: the app heartbeats at background_heartbeat_ms from now
	// on, and the node waits background_timeout_ms before it closes with 3001.
	ModeBackground = "background"
	// ModeForeground: back to heartbeat_ms and timeout_ms.
	ModeForeground = "foreground"
)

// ProtocolVersion is the version this package implements.
const ProtocolVersion = "1"
