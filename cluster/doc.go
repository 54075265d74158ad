// Package cluster lets plex nodes cooperate through NATS: a push accepted
// by any node reaches its users wherever they are connected, persistent
// pushes are stored in JetStream (replicated when NATS is a cluster), and
// GET /plex/v1/host names the least-loaded live node. The server does not
// import it: give a node the Cluster's Bus and Store,
//
//	nc, _ := nats.Connect(url, nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true))
//	c, _ := cluster.New(cluster.Config{Conn: nc})
//	srv, _ := server.New(server.Config{Bus: c.Bus(), Store: c.Store(), …})
//
// and close nc after the server. cmd/plexd does exactly this, against an
// embedded NATS server (package cluster/embedded) by default.
//
// # Routing (core NATS)
//
// A node subscribes to a user's subject while it holds a connection of the
// user (the server calls Subscribe on the user's first connection there
// and Unsubscribe on the last), so a push to a user is published once and
// reaches only the nodes that hold the user; each writes it to its own
// connections, so every connection gets it once. Room pushes and
// broadcasts go to one subject each that every node listens on; each node
// writes them to its own connections (room membership is shared, see
// roomMirror). Subject tokens are the uids and room names in unpadded
// URL-safe base64, so any byte is allowed in them.
//
// Core NATS is at most once: a transient push published while a node's
// connection is being re-established is lost for that node, and a push
// that cannot be published (NATS unreachable) fails with ErrUnavailable
// instead of reporting success.
//
// # Persistent pushes (JetStream)
//
// See Store for the stream, seqs, acks and bounds. Every persistent push
// is also routed like a transient one, and a node writes a user's
// persistent pushes in seq order: when one arrives whose predecessor it
// has not written, it fetches the missing ones from the stream first
// (server.Delivery.Prev). Whatever core NATS loses, the stream has: after
// a login, a reconnect or a dropped delivery, the node re-reads the last
// stored push of the users concerned (catchup), and the same gap filling
// brings everything before it. An app that reconnects to any node resumes
// from the stream (resume after its last seq, or its device's cursor).
//
// # Presence and hooks
//
// Online(uid) asks the user's subject; the nodes holding the user answer
// (see presence.go): no stored state, no staleness beyond the propagation
// of a subscription. Where(uid) lists those nodes. The server's OnOnline
// and OnOffline hooks stay per node: they fire when a user gets a first
// connection on THIS node and loses the last one on THIS node, so a user
// connected to two nodes produces two online events; a hook that needs
// the cluster-wide transition checks srv.Online(server.User(uid)) (cluster-wide) in
// OnOffline, and dedups OnOnline by the same query.
//
// # Discovery
//
// Every node publishes a heartbeat (its id, advertised address, connection
// and user counts, and whether it serves and reaches NATS) every
// Config.Heartbeat; a node silent for three of its heartbeats, or that
// said goodbye (Close), is dropped. PickHost returns the address of the
// live healthy node with the fewest connections, counting the apps it
// sent there since that node's last heartbeat.
//
// # Concurrency
//
// All exported methods are safe for concurrent use. The goroutines a Bus
// starts (Start) all end in Close; see Bus.
package cluster
