package plexmobile

// States reported by Listener.OnState and Client.State.
const (
	// StateIdle: Connect was not called yet. Never reported by OnState.
	StateIdle = 0
	// StateConnecting: the first attempt started (after Connect, or after
	// EnterForeground resumed a suspended Client).
	StateConnecting = 1
	// StateConnected: authenticated; pushes flow and Send writes at once.
	StateConnected = 2
	// StateDisconnected: an established connection ended. code is the
	// node's 3xxx code (3000: node shutting down, 3001: heartbeat timeout,
	// …) or 0 for a network error; reason says more. StateReconnecting
	// always follows.
	StateDisconnected = 3
	// StateReconnecting: the SDK waits out a jittered backoff, then dials
	// again. code and reason are why the connection (or the failed
	// attempt) ended; reason also says how long the wait is.
	StateReconnecting = 4
	// StateSuspended: EnterBackground closed the connection
	// (BackgroundDisconnect); EnterForeground reconnects.
	StateSuspended = 5
	// StateAuthFailed: final. The node refused the token (code 4001, or
	// another 4xxx refusal of the credentials); the SDK does not retry with
	// it. Create a new Client with a fresh token.
	StateAuthFailed = 6
	// StateClosed: final. code 0 after Close; otherwise the node's
	// terminal code (4002: replaced by a newer login of the same device,
	// 4005: protocol version not served, 4030: refused, …).
	StateClosed = 7
)

// Listener receives a Client's events. All calls come from one SDK thread,
// in order, one at a time, never while the SDK holds a lock (see the
// package documentation). Exactly one of StateAuthFailed and StateClosed is
// the last call.
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
	// OnState reports a state change: one of the State constants, the
	// node's numeric code (docs/protocol.md §13) or 0, and a
	// human-readable reason ("" when there is nothing to say).
	OnState(state int64, code int64, reason string) error
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
