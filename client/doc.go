// Package client is the Go side of plex for programs that are not nodes:
//
//   - PlexClient pushes messages through nodes (business services):
//     New(Config), then Send / SendUsers / SendRoom / Broadcast, each
//     returning the node's Result or an error, never a silent nil.
//   - Conn is an app's connection (Go programs, and the base of sdk/mobile):
//     Dial(ctx, ConnConfig), then callbacks for messages and state changes;
//     heartbeat, reconnect, acks and resume are handled for the app. Send
//     writes upstream messages; JoinRoom, LeaveRoom and Message are
//     requests that return the node's answer.
//
// Both speak docs/protocol.md over TCP and never import package server, so
// a client binary stays small.
//
// # Delivery
//
// PlexClient.Send sends a request (/inner/push, request id in seq) and
// waits for the node's reply. A push is retried on another node only when
// it provably was not written to a socket, or when the node closed the
// connection with /disconnect (3000 at shutdown, or any other code) after
// promising to answer everything it executed first (protocol §13.4: a
// rolling restart loses and duplicates nothing);
// otherwise a lost reply surfaces as ErrOutcomeUnknown instead of a silent
// duplicate. So does the node's /error 3008 (its store could not confirm a
// persistent push), while /error 3005 means nothing was stored and a retry
// is safe (protocol §13.2). Sends issued
// while no node is connected wait (bounded by Config.MaxPending,
// Config.RequestTimeout and ctx) and go out after reconnect. SendLegacy
// speaks the original fire-and-forget /logic/send/msg, which has no outcome.
//
// Conn's requests (JoinRoom, LeaveRoom, Message) go through the same
// machinery: a request id in seq, the node's /reply or /error matched to
// it by the reader (never queued behind OnMessage). They wait within ctx
// while the Conn reconnects and go out on the next connection; a request
// lost with its connection after it was written returns
// ErrOutcomeUnknown, never a guessed success. Room membership is the
// user's and the node keeps it across reconnects, so a Conn does not
// re-join rooms (rooms.go says why).
//
// Conn receives persistent pushes (meta persist=1, seq > 0) exactly once
// each, in seq order: copies replayed after a reconnect are dropped by seq,
// each push is acked (cumulative /ack, once per batch) after OnMessage
// returned, and a reconnect resumes after the last seq OnMessage returned
// from. A push whose OnMessage never returned is therefore replayed, never
// lost.
//
// # Concurrency
//
// PlexClient and Conn are safe for concurrent use. Their goroutines, and
// when each exits:
//
//   - per connection, a reader and a writer. The reader decodes frames and
//     completes requests (PlexClient) or queues messages for the dispatcher
//     (Conn); the writer writes every queued frame with one Write and
//     heartbeats when idle. Both exit when the connection dies.
//   - per node address (PlexClient) or per Conn, one connection loop that
//     dials, supervises (stall detection) and backs off between attempts.
//     It exits on Close or on a terminal code (4xxx).
//   - per Conn, one dispatcher that runs OnMessage and OnState in order,
//     never on the reader; it exits after delivering StateClosed.
//
// Close stops all of them and returns after they exited (Conn.Close called
// from a callback returns at once; Conn.Done reports the end). No goroutine
// outlives Close.
//
// Heartbeat, liveness and reconnect rules are in one place (session.go):
// liveness is any inbound frame; an idle connection writes /heartbeat at
// the interval the node announced in /auth/success and is declared dead
// after the announced timeout; reconnects use jittered exponential Backoff;
// a 4xxx code on /auth/failed or /disconnect is terminal, 3xxx reconnects.
//
// # Stability
//
// The API follows semantic versioning of the module; the wire is versioned
// by docs/protocol.md.
package client
