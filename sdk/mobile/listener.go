package plexmobile

// States reported by Listener.OnState and Client.State: the states of
// docs/protocol.md §13.6, with its names, plus the optional suspended
// state of clients that offer background-disconnect. Values 3 and 6 were
// StateDisconnected and StateAuthFailed before; they are never reused.
const (
	// StateIdle: Connect was not called yet. Never reported by OnState.
	StateIdle = 0
	// StateConnecting: an attempt runs (discovery, dial, TLS, the auth
	// handshake). Reported before every attempt: the first after Connect,
	// each retry after StateReconnecting, and the first after
	// EnterForeground resumed a suspended Client.
	StateConnecting = 1
	// StateOnline: authenticated; pushes flow and Send writes at once.
	StateOnline = 2
	// StateConnected is the old name of StateOnline (same value).
	//
	// Deprecated: use StateOnline (the name of docs/protocol.md §13.6).
	// StateConnected will be removed in the next release.
	StateConnected = StateOnline
	// StateReconnecting: the connection ended, or an attempt failed, with a
	// retryable cause; the SDK waits out a jittered backoff, then reports
	// StateConnecting and dials again. code and reason are what ended the
	// connection or the attempt: the node's 3xxx code (3000: node shutting
	// down, 3001: heartbeat timeout, …) or 0 for a network error; delayMs
	// is the wait before the next attempt.
	StateReconnecting = 4
	// StateSuspended: EnterBackground closed the connection on purpose
	// (BackgroundDisconnect); nothing is retried until EnterForeground,
	// which reports StateConnecting. code is 0.
	StateSuspended = 5
	// StateClosed: final, and always the last event. code 0 after Close;
	// otherwise the node's terminal 4xxx code: 4001 the node refused the
	// token (create a new Client with a fresh one; the SDK never retries
	// refused credentials), 4002 replaced by a newer login of the same
	// device, 4005 protocol version not served, 4030 refused, ….
	StateClosed = 7
)

// Listener receives a Client's events. All calls come from one SDK thread,
// in order, one at a time, never while the SDK holds a lock (see the
// package documentation). Exactly one StateClosed is the last call.
//
// The methods return an error so that an exception thrown by a Java or
// Swift implementation is caught at the boundary: it is logged and
// otherwise ignored (the message still counts as delivered). In Java they
// are declared "throws Exception".
type Listener interface {
	// OnMessage delivers a push (uri and body as the pusher sent them) or
	// a node → app frame such as /error. seq is > 0 for a persistent push:
	// each arrives once, in seq order, and is acknowledged to the node
	// after OnMessage returned, so a push whose OnMessage did not return
	// (process killed) comes again after the next connect. seq is 0 for
	// transient pushes. An empty body may arrive as null (Java) or nil.
	// meta is the push's meta (never nil): the node's "id" and "ts", "persist"
	// for a persistent push, and the pusher's own keys.
	OnMessage(uri string, body []byte, seq int64, meta *Meta) error
	// OnState reports a state change (docs/protocol.md §13.6): one of the
	// State constants; the node's numeric code (docs/protocol.md §13) that
	// ended the connection, or 0; a human-readable reason ("" when there
	// is nothing to say); and, with StateReconnecting, the wait in
	// milliseconds before the next attempt (0 with every other state).
	OnState(state int64, code int64, reason string, delayMs int64) error
}

// Logger receives the SDK's log lines: connection lifecycle at info, node
// refusals at error. It may be called from any SDK thread, concurrently,
// and must return quickly. Tokens never appear in the lines.
type Logger interface {
	// Log receives one line. level is slog's: LogDebug, LogInfo, LogWarn,
	// LogError (other values may appear; compare with >=).
	Log(level int64, line string)
}

// Log levels passed to Logger.Log (the values of log/slog's levels).
const (
	LogDebug = -4
	LogInfo  = 0
	LogWarn  = 4
	LogError = 8
)
