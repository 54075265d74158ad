// Package server is the embeddable plex node: it accepts long-lived TCP (and
// TLS) connections from apps and push clients, authenticates them, keeps
// them alive with heartbeats, and delivers pushes to users, rooms or
// everyone, following docs/protocol.md.
//
// # Lifecycle
//
// Like net/http.Server: New(Config) → ListenAndServe or Serve(ln) → Shutdown(ctx)
// (stop accepting, send every connection /disconnect 3000 so it reconnects
// elsewhere, drain, close) or Close. Many servers can run in one process; the
// package has no global state.
//
// # Concurrency
//
// Plain TCP connections are served by an event loop (github.com/lesismal/nbio):
// an idle authenticated connection costs no goroutine, only its small conn
// struct and the kernel socket. Frames are decoded on the poller goroutine;
// hooks called from the read path (Config.OnUpstream, Config.RoomAuthorizer)
// must not block. Authentication runs on its own short-lived goroutine so a
// slow authenticator never stalls the loop. TLS connections use one reader
// goroutine each (crypto/tls needs blocking reads); their write path is the
// same.
//
// Push APIs are safe for concurrent use. Pushes to one user keep their order:
// a persistent push takes its seq and is queued on every connection of the
// user under the user's shard lock, and each connection writes its queue in
// order. Frames are encoded once per push and shared by every connection;
// a connection's pending frames go out with one writev.
//
// # Stability
//
// The API follows semantic versioning of the module; the wire is versioned
// by docs/protocol.md.
package server
