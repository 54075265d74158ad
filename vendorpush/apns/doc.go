// Package apns sends notifications through the Apple Push Notification
// service (APNs) over HTTP/2 with token-based authentication: a .p8 signing
// key, its key id and the team id make an ES256 provider token (JWT) that
// authorizes every request; no certificate is needed.
//
// A *Client implements vendorpush.Sender. Real credentials from an Apple
// developer account are required in production; the tests in this package
// run against a local HTTP/2 server and prove the requests are well formed,
// not that Apple accepts them. See docs/vendor-push.md.
//
// # Requests
//
// Send POSTs the notification to <base>/3/device/<token> with the headers
// authorization ("bearer <provider token>"), apns-topic, apns-push-type
// ("alert", or "background" for a notification that shows nothing),
// apns-priority (10 or 5), apns-expiration (when TTL is set), apns-collapse-id
// (when Collapse is set) and content-type, and the JSON payload
//
//	{"aps":{"alert":{"title":…,"body":…},"sound":…,"badge":…,"thread-id":…},
//	 "<data key>":"<data value>",…}
//
// where a background notification's aps is {"content-available":1}.
//
// # Provider token
//
// The token is signed on first use and reused for 50 minutes: Apple rejects
// tokens older than an hour and answers TooManyProviderTokenUpdates to
// senders that replace theirs more often than every 20 minutes. When APNs
// nevertheless says ExpiredProviderToken (clock skew) about a token at least
// 20 minutes old, it is replaced and the request retried once.
//
// # Retries
//
// 429 and 5xx replies and network errors are retried with jittered
// exponential backoff, at most Config.MaxAttempts attempts in all, waiting
// at least the reply's Retry-After; a Retry-After longer than MaxBackoff
// ends the retries. Other 4xx replies are returned at once. ctx bounds the
// whole call, waits included. A request that failed on the network may have
// reached Apple, so a retry can, rarely, show a notification twice.
//
// # Concurrency
//
// A Client is safe for concurrent use; requests share the HTTP/2
// connections of its transport. It starts no goroutine of its own beyond
// those of net/http; CloseIdleConnections releases them.
package apns
