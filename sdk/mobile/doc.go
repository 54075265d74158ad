// Package plexmobile is the plex app client for Android and iOS: a
// gomobile-bindable facade over client.Conn. `gomobile bind` turns it into
// an .aar (Java classes io.plexpush.plexmobile.*) and an .xcframework
// (Objective-C classes Plexmobile*); sdk/android and sdk/ios wrap those in a
// small Java and Swift API.
//
// Everything exported here uses only types gomobile can bind: string, bool,
// int64, []byte, error, and this package's own Config, Client, Listener and
// Logger. Integers are int64 (milliseconds for durations) so that Java sees
// long and Objective-C int64_t. No type of package client or pack leaks into
// the API; TestAPIIsBindable enforces both rules.
//
// # Lifecycle
//
//	cfg := &plexmobile.Config{Addrs: "push.example.com:9578", Token: token, Device: installID}
//	c, err := plexmobile.NewClient(cfg) // validates; no I/O yet
//	c.SetListener(l)                    // before Connect, to see every event
//	c.Connect()                         // returns at once; OnState reports progress
//	c.Send("/chat/typing", body)        // blocks until written (or SendTimeoutMs)
//	r, err := c.Message("bob", text, "") // blocks until the node answers (or SendTimeoutMs)
//	r, err = c.MessageRoom("team-7", text, "")
//	c.EnterBackground() / c.EnterForeground()
//	c.Close()                           // final; OnState(StateClosed) is the last event
//
// The SDK dials (fixed addresses round-robin, or GET /plex/v1/host),
// authenticates, heartbeats at the interval the node announces, reconnects
// with jittered exponential backoff, acks persistent pushes after
// Listener.OnMessage returned and resumes after the last one on reconnect.
// Persist LastSeq and pass it back as Config.LastSeq after a process
// restart: pushes at or below it are then never delivered again.
//
// # Background
//
// The app reports its lifecycle with EnterBackground and EnterForeground;
// Config.BackgroundPolicy says what the SDK does in background:
//
//	BackgroundKeep (0, default)   keep the connection at the normal heartbeat pace
//	BackgroundDisconnect (1)      close it (StateSuspended); EnterForeground reconnects and resumes
//	BackgroundSlowHeartbeat (2)   keep it in the protocol's background mode: heartbeats at
//	                              the node's background interval (5 min by default, not 30 s)
//
// BackgroundSlowHeartbeat is recommended for an app that stays connected in
// background: it changes no state, pushes and Send work as usual, every
// reconnect while in background asks for background mode again, and a node
// without background mode simply keeps the normal pace. BackgroundKeep
// stays the zero value so that existing apps keep their behaviour.
// BackgroundDisconnect suits apps whose background is covered by vendor
// push (FCM, APNs).
//
// # Threads
//
// Every Listener call of one Client comes from one SDK thread (a goroutine
// of the Client, attached to the JVM on Android; not the main thread), one
// call at a time, in order, and never while the SDK holds a lock: a
// callback may call any Client method, Close included. A slow callback
// slows delivery to this app only (the node eventually drops a connection
// that does not read, and the SDK reconnects and resumes). Logger.Log may
// be called from any SDK thread and must return quickly.
//
// Client methods are safe for concurrent use from any thread. Connect,
// EnterBackground, EnterForeground and SetListener return at once; Send
// blocks until its frame is written, Message and MessageRoom until the
// node answered (both up to Config.SendTimeoutMs: call them off the main
// thread, e.g. on an executor or a coroutine's IO dispatcher); Close blocks until every goroutine of
// the Client has exited, except when a callback is running (e.g. Close
// called from one): it then returns at once and the SDK thread ends after
// delivering StateClosed.
//
// # Messages
//
// Message sends a text to one user of the app, MessageRoom to the members
// of a room (docs/protocol.md §8.1); the node stores a copy per recipient,
// so recipients offline get it on their next connection, as a push with
// URI "/message" and meta "from" (set by the node), "id", "ts",
// "conversation" and, for a room, "room". The result is the node's
// MessageResult. A message that a draining node (one announcing "drain",
// docs/protocol.md §13.4) did not answer before its /disconnect was not
// executed: the SDK sends it again, once, with the same seq, on the next
// connection (to another node when the Config names several), and returns
// that answer; if the Client closes first, the error is "client closed"
// (not sent). Messaging is off unless the node's app allows it.
//
// # Errors and panics
//
// Errors become exceptions in Java and NSError in Objective-C. Their
// message starts with one of:
//
//	plexmobile: invalid config    NewClient refused the Config (the field follows)
//	plexmobile: client closed     after Close, or after the node closed for good (code follows)
//	plexmobile: not connected     Send before Connect, or while suspended in background
//	plexmobile: send failed       Send could not write (timeout, reserved URI, too large, not UTF-8),
//	                              or Message timed out before its message was written
//	plexmobile: message refused   the node refused a Message or MessageRoom: "code N: reason"
//	                              follows (ErrorCode reads N); nothing was delivered
//	plexmobile: outcome unknown   a Message or MessageRoom may have been delivered (3008, or the
//	                              reply was lost); sending it again may deliver it twice
//	plexmobile: internal error    a recovered panic (the stack follows; please report it)
//
// Every exported function and method recovers a panic and returns it as an
// error (getters return their zero value), and a panic or error in a
// Listener or Logger callback is logged and ignored, so no Go panic ever
// crosses into the app's runtime.
//
// # Stability
//
// The API follows the module's semantic versioning. It grows only by
// additions (new fields, methods, constants); the committed Objective-C
// snapshot in sdk/ios/api-snapshot makes every change visible in review.
package plexmobile
