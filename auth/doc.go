// Package auth holds the authenticators a plex node can use to turn the token
// an app sends in /auth/server into a user id (uid):
//
//   - [JWT] verifies a JSON Web Token (HS256/384/512 with a shared secret;
//     RS*, PS*, ES* or EdDSA with PEM public keys) and takes the uid from "sub".
//   - [Webhook] asks an HTTP endpoint of the application.
//   - [None] takes the token itself as the uid (development and tests).
//   - [Func] and [Legacy] adapt plain functions, including the callback
//     signature of the original plex, func(body string) (bool, string).
//
// Every one has the method set the server expects of an authenticator:
//
//	Authenticate(ctx context.Context, token string, remote net.Addr) (uid string, err error)
//
// The interface itself is defined where it is used, in package server.
//
// # Error contract
//
// Authenticate returns a non-empty uid and a nil error, or an error of one
// of two kinds, and the node answers each differently:
//
//   - The credentials are invalid (bad signature, expired, unknown user, the
//     webhook said no): the error satisfies errors.Is(err, pack.CodeAuthFailed)
//     and is a *pack.CodeError whose Reason is short, printable and safe to
//     send to the app. The node answers /auth/failed with code 4001, which
//     tells the app to stop reconnecting.
//   - The check itself could not be done (webhook unreachable, timeout, 5xx,
//     a broken reply, ctx cancelled): any other error; those made by this
//     package wrap [ErrUnavailable] and, where there is one, the cause (for
//     example context.DeadlineExceeded). The node closes with code 3005 and
//     the app retries later.
//
// No error, reason or log record made by this package contains the token.
// Reasons are fixed strings chosen here; a reason that comes from outside
// (a webhook's or a legacy callback's) is passed on only when it is at most
// [MaxReasonLen] bytes of printable text and does not contain the token.
// Authenticators that log take a *slog.Logger in their Config (nil = silent)
// and never log the token.
//
// # Uids
//
// A uid is at most [MaxUIDLen] bytes of UTF-8 without control characters;
// every authenticator here refuses to return anything else. [None] is
// stricter, because there the uid comes straight from the app: see
// [ValidUID]. The stricter rule is not a property of every uid: a JWT "sub"
// such as "auth0|5f7c" is a valid uid.
//
// # Concurrency
//
// A *JWT, *Webhook, None, Func or Legacy value is safe for concurrent use by
// any number of goroutines once made, and keeps no per-call state. NewJWT and
// NewWebhook copy what they keep from their Config, so the caller may reuse
// or change the Config (and its slices and maps) afterwards. Func and Legacy
// are as safe as the function they wrap. No authenticator starts a goroutine
// of its own; a Webhook's HTTP transport keeps idle keep-alive connections
// (and their goroutines) until Webhook.CloseIdleConnections or the
// transport's idle timeout.
//
// Stability: the Go API follows semantic versioning of the module.
package auth
