// Package vendorpush sends vendor push notifications (Apple APNs, Google
// FCM, Web Push to browsers) for plex pushes that found no connection: it
// plugs into the node's offline hook, server.Config.OnUndelivered.
//
//	reg := vendorpush.NewMemoryRegistry(0)          // uid → device tokens
//	ap, _ := apns.New(apns.Config{...})             // vendorpush/apns
//	fc, _ := fcm.New(fcm.Config{...})               // vendorpush/fcm
//	wp, _ := webpush.New(webpush.Config{...})       // vendorpush/webpush
//	d, _ := vendorpush.New(reg, map[vendorpush.Platform]vendorpush.Sender{
//		vendorpush.APNs: ap, vendorpush.FCM: fc, vendorpush.WebPush: wp,
//	}, vendorpush.Config{Logger: logger})
//	srv, _ := server.New(server.Config{OnUndelivered: d.Hook})
//	…
//	srv.Shutdown(ctx) // runs the last hooks
//	d.Shutdown(ctx)   // sends what they queued
//
// The pieces are small on purpose: a [Sender] sends one [Notification] to
// one device; a [DeviceRegistry] lists a user's devices; [MapMessage] (or
// [Config].Map) turns a plex push into a notification; the [Dispatcher]
// queues, fans out to every device with bounded concurrency (a push to one
// plex device, meta "device": to that device's tokens, [Device].ID), and
// removes tokens the vendor calls invalid. docs/vendor-push.md describes the setup,
// the mapping, the retry policy and what is logged.
//
// # Concurrency
//
// Dispatcher.Hook never blocks: it maps the push on the caller's goroutine
// and puts it on a bounded queue, or drops it (counted in Stats, logged at
// most once a second) when the queue is full. Config.Concurrency workers,
// started by New, take pushes from the queue; each looks up the user's
// devices and sends to them one after the other, so at most Concurrency
// sends are in flight. The workers exit when Shutdown has drained the queue
// or when Close (or Shutdown's ctx ending) cancels them; both return only
// after every worker has exited. Dispatcher, MemoryRegistry and the senders
// are safe for concurrent use.
//
// # Errors
//
// Senders return errors that match the sentinels of errors.go across
// vendors: [ErrInvalidToken] (the Dispatcher removes the token),
// [ErrAuth] (our credentials; logged at Error), [ErrBadNotification].
//
// # Logging
//
// Nothing logs a device token in full ([Redact] shows its first six
// characters and its length), and nothing logs a key, a provider token or
// an access token at all.
//
// # Stability
//
// The Go API follows semantic versioning of the module. The mapping's meta
// and data keys are part of the contract with apps and push clients.
package vendorpush
