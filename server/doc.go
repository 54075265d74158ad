// Package server is the embeddable plex node: it accepts long-lived TCP,
// TLS and WebSocket connections from apps and push clients, authenticates
// them, keeps them alive with heartbeats, and delivers pushes to users,
// rooms or everyone, following docs/protocol.md.
//
// # Lifecycle
//
// Like net/http.Server: New(Config) → ListenAndServe, or Serve(ln),
// ServeInner(ln) and ServeAPI(ln) → Shutdown(ctx) (stop accepting, send
// every connection /disconnect 3000 so it reconnects elsewhere, drain,
// close) or Close. Many servers can run in one process; the package has no
// global state.
//
// # Where things are
//
// Files are grouped by prefix, one part of the node each:
//
//	server.go            Server, New, Serve*, Shutdown, Close
//	config.go            Config and its defaults
//	auth.go              Authenticator, LocalAuthenticator
//	auth_open.go         open authenticators only on loopback (ErrOpenAuth)
//	apps.go              apps (tenants): App, scoped user keys
//	errors.go            exported errors
//	transport_tcp.go     the accept loop: admit, register, close
//	transport_tls.go     TLS connections (a reader and a writer goroutine)
//	transport_ws*.go     WebSocket: upgrade, frames on the event loop, TLS ws
//	transport_pollers.go the event loop's probes: start, descriptor-reuse guard
//	transport_sockopt_*.go  socket options
//	session.go           Session: one connection, its write queue, close
//	session_read.go      frames in: decode, dispatch by state and URI
//	session_auth.go      /auth/server and /inner/auth/server
//	session_heartbeat.go heartbeats; session_deadlines.go the timing wheel
//	session_offload.go   push clients' frames off the event loop
//	session_quota.go     per-connection rate limits
//	session_close_timers.go  linger-close timers Shutdown waits for
//	login.go             an app's login: replay of stored pushes, then live
//	push.go              Target, PushOption, Outcome
//	push_inner.go        /inner/push and /logic/send/msg from push clients
//	push_deliver.go      Push: validate, store, write to connections, bus
//	push_pipeline.go     pipelined persistent pushes (per-user pipes)
//	push_batch.go        frames queued per read, flushed with one writev
//	push_device.go       pushes to one device of a user (meta "device")
//	ack_deadline.go      ack timeouts: OnUnacked for pushes not acked in time
//	rooms.go, presence.go, stats.go  Join/Leave/Members, Online, Stats
//	message.go, message_queue.go     /message between users
//	store.go             the Store contract; store_memory.go the memory store
//	store_acker.go       /ack and coalesced cursor writes
//	cluster.go           the Bus contract (the cluster seam) and Delivery
//	cluster_link.go      the node's side of it: seq order across nodes
//	hub.go               connections by user, rooms, order locks
//	hooks.go             OnOnline/OnOffline/OnUndelivered on one goroutine
//	http_api.go          the HTTP API (Handler), /readyz, /metrics
//	metrics.go           Prometheus metrics
//
// A push from a push client: session_read.go (frame) → push_inner.go
// (/inner/push) → push_deliver.go (validate; transient: write now;
// persistent: push_pipeline.go appends through the Store and writes once
// it is stored) → push_batch.go (one writev per connection) → the
// connection's transport; cluster.go publishes it to other nodes.
//
// # Concurrency
//
// Plain TCP and plain WebSocket connections are served by an event loop
// (github.com/lesismal/nbio): an idle authenticated connection costs no
// goroutine, only its Session and the kernel socket. Frames are decoded on
// the poller goroutine; hooks called from the read path
// (Config.OnUpstream, Config.RoomAuthorizer) must not block.
//
// Push APIs are safe for concurrent use. Pushes to one user keep their
// order: a push takes the user's order lock (hub.go) while it is queued on
// every connection of the user, a persistent push in the seq order its
// store assigned, and each connection writes its queue in order. Frames
// are encoded once per push and shared by every connection; a
// connection's pending frames go out with one writev.
//
// Goroutines, and when each exits:
//
//   - the event loop's pollers (Config.Pollers): until Close.
//   - per listener, an accept loop (Serve, ServeInner; ServeAPI's
//     http.Server): until Shutdown or Close.
//   - per TLS connection, a reader and a writer; per blocking WebSocket
//     (TLS) connection, a writer: until the connection closes.
//   - per login with an authenticator that is not local (LocalAuthenticator),
//     one short-lived goroutine for the call; a local one runs inline.
//   - per push client with frames in flight, one worker (session_offload.go):
//     until its queue is empty.
//   - the timing wheel (auth and heartbeat deadlines) and the hooks
//     goroutine: until Close.
//   - with a store that is not local (Store.Local false): the acker (cursor
//     writes, up to 32 store calls at once), the pipeline's completer and
//     its sweep timer, and the /message workers: until Close.
//   - with Config.OnUnacked: the ack deadlines' loop (ack_deadline.go;
//     the memory heap with up to 8 cursor readers, or the Store's
//     AckDeadlineStore): until Close.
//   - close timers (a linger after /disconnect): Shutdown and Close wait
//     for them.
//   - the Bus (package cluster) runs its own, started by Register and
//     ended by Close.
//
// # Stability
//
// The API follows semantic versioning of the module; the wire is versioned
// by docs/protocol.md.
package server
