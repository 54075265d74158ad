package cluster

import "errors"

var (
	// ErrClosed: the Bus was closed.
	ErrClosed = errors.New("cluster: closed")
	// ErrUnavailable: NATS (or JetStream) cannot be reached now; a
	// transient push is then refused rather than silently dropped. The
	// wrapped error says why.
	ErrUnavailable = errors.New("cluster: NATS unavailable")
	// ErrBadEnvelope: a message on a plex subject is not a plex delivery
	// (another program publishes there, or a newer plex version).
	ErrBadEnvelope = errors.New("cluster: malformed delivery")
	// ErrNotStoring: JetStream answers but did not store the node's probe
	// message (e.g. its disk filled up); StoreHealth wraps it.
	ErrNotStoring = errors.New("cluster: JetStream does not store")
	// ErrNoConn: Config.Conn is nil.
	ErrNoConn = errors.New("cluster: Config.Conn is required")
)
