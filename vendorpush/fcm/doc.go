// Package fcm sends notifications through Firebase Cloud Messaging's HTTP
// v1 API, authenticated as a Google service account with the OAuth 2.0
// JWT-bearer flow (RFC 7523) implemented here on the standard library and
// github.com/golang-jwt/jwt/v5: no Google client library is needed.
//
// A *Client implements vendorpush.Sender. Real credentials are required in
// production: a service-account JSON key of the Firebase project, whose
// account may send messages (role "Firebase Cloud Messaging API Admin" or
// wider). The tests in this package run against local HTTP/2 servers and
// prove the requests are well formed, not that Google accepts them. See
// docs/vendor-push.md.
//
// # Requests
//
// Send POSTs to <base>/v1/projects/<project>/messages:send with
// "Authorization: Bearer <access token>" and
//
//	{"message":{"token":…,"notification":{"title":…,"body":…},"data":{…},
//	 "android":{"priority":"HIGH","ttl":"3600s","collapse_key":…},
//	 "apns":{"headers":{…},"payload":{"aps":{…}}}}}
//
// A background notification has no "notification" member (a data message,
// delivered to the app's FirebaseMessagingService) and, for iOS devices,
// an apns member with content-available. The apns member is present only
// when something in it differs from FCM's defaults.
//
// # Access token
//
// The client signs an RS256 assertion {iss: client_email, scope:
// firebase.messaging, aud: token URI, iat, exp: iat+1h} with the service
// account's key (header kid: private_key_id), exchanges it at the token URI
// (grant_type urn:ietf:params:oauth:grant-type:jwt-bearer) and keeps the
// access token until five minutes before it expires (or half its lifetime,
// when that is shorter). One refresh runs at a time; concurrent Sends wait
// for it. A 401 from FCM drops the cached token and retries once.
//
// # Retries
//
// 429 and 5xx replies (from FCM or the token endpoint) and network errors
// are retried with jittered exponential backoff, at most MaxAttempts
// attempts, waiting at least the reply's Retry-After; a Retry-After longer
// than MaxBackoff ends the retries. Other 4xx replies are returned at once.
//
// # Concurrency
//
// A Client is safe for concurrent use. It starts no goroutine of its own
// beyond those of net/http; CloseIdleConnections releases them.
package fcm
