// Package webpush sends Web Push messages to browsers whose tab is closed:
// the push service of the browser's vendor (RFC 8030) keeps the message
// and wakes the page's service worker, which shows a notification.
//
// A *Client implements vendorpush.Sender for platform vendorpush.WebPush.
// The device token is the browser's subscription JSON
// (PushSubscription.toJSON(): endpoint, keys.p256dh, keys.auth), checked
// by ParseSubscription. The push services of real browsers are not
// reachable from the tests in this package: they run against a local
// HTTPS server that verifies the VAPID token and decrypts the message.
// See docs/vendor-push.md.
//
// # Requests
//
// Send encrypts the notification as the JSON of Message with aes128gcm
// (RFC 8291: ECDH on P-256 with a new sender key per message, HKDF-SHA256,
// one record of at most 4096 bytes) and POSTs it to the subscription's
// endpoint with the headers
//
//	Authorization:    vapid t=<ES256 JWT>, k=<VAPID public key>   (RFC 8292)
//	Content-Encoding: aes128gcm
//	Content-Type:     application/octet-stream
//	TTL:              seconds the push service keeps it (DefaultTTL when unset; 0: now or never)
//	Urgency:          high for a visible notification, normal otherwise (Notification.High)
//	Topic:            the collapse key (Topic), when set
//
// The JWT's claims are aud (the endpoint's origin), exp (12 hours ahead,
// RFC 8292 allows 24) and sub (Config.Subject).
//
// # Why no library
//
// The crypto is the standard library's (crypto/ecdh, crypto/hkdf,
// crypto/aes, crypto/cipher) and the JWT is golang-jwt's, already used by
// the APNs sender; about 150 lines in all. The Go Web Push library that
// exists pads every message to 4 KiB, uses crypto/elliptic functions
// deprecated since Go 1.21, signs its JWT with a fixed 12-hour exp
// whatever it is asked, and hides its salt and key, so the RFC 8291 test
// vector cannot be run against it.
//
// # Retries
//
// 429 and 5xx replies and network errors are retried with jittered
// exponential backoff, at most Config.MaxAttempts attempts in all, waiting
// at least the reply's Retry-After; a Retry-After longer than MaxBackoff
// ends the retries. Other replies are returned at once as *Error: 404 and
// 410 match vendorpush.ErrInvalidToken (the Dispatcher removes the
// subscription), 413 vendorpush.ErrBadNotification, 401 and 403
// vendorpush.ErrAuth.
//
// # Concurrency
//
// A Client is safe for concurrent use. It starts no goroutine of its own
// beyond those of net/http; CloseIdleConnections releases them.
package webpush
