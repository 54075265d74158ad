package server

import (
	"errors"
	"strconv"
)

var (
	// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown or Close.
	ErrServerClosed = errors.New("server: closed")
	// ErrOpenAuth: an open authenticator (auth.None) would take app logins
	// on an address that is not loopback-only, where anyone could log in
	// as any user, and Config.AllowOpenAuth is not set.
	ErrOpenAuth = errors.New("server: open authenticator (anyone can be any user) on a non-loopback address; set Config.AllowOpenAuth if you mean it")
	// ErrBadTarget: a push named no target, or more than one.
	ErrBadTarget = errors.New("server: push needs exactly one target (uid, uids, room or all; device only with uid)")
	// ErrNoURI: a push without a URI.
	ErrNoURI = errors.New("server: push needs a uri")
	// ErrReservedURI: a push carried one of the protocol's own URIs
	// (pack.Control).
	ErrReservedURI = errors.New("server: push uri is reserved by the protocol")
	// ErrBodyTooLarge: the push's body does not fit in one frame.
	ErrBodyTooLarge = errors.New("server: push body over the frame limit")
	// ErrNotPersistable: persistent pushes go to users (uid or uids), not rooms or everyone.
	ErrNotPersistable = errors.New("server: only pushes to users can be persistent")
	// ErrBadTTL: a push's ttl_ms is negative or over MaxPushTTL.
	ErrBadTTL = errors.New("server: ttl_ms must be between 0 and " + strconv.FormatInt(MaxPushTTL.Milliseconds(), 10))
	// ErrBadAckTimeout: a push's ack timeout (ack_timeout_ms, AckWithin)
	// is negative, set on a transient push, or longer than its TTL.
	ErrBadAckTimeout = errors.New("server: ack_timeout_ms needs a persistent push and must be between 0 and its ttl")
	// ErrConnClosed: the session's connection is closed.
	ErrConnClosed = errors.New("server: connection closed")
	// ErrUnknownApp: a push named an app the node does not serve.
	ErrUnknownApp = errors.New("server: unknown app")
	// ErrStoreBusy: the node holds as many persistent pushes in flight as
	// it may (Config.MaxPersistInFlight), and none finished within 100 ms:
	// the store is slow or cannot answer. Nothing was stored; retry later
	// (code 3005, HTTP 503).
	ErrStoreBusy = errors.New("server: persistent pushes in flight at their bound (the store is slow or away); nothing stored, retry later")
	// ErrOutcomeUnknown: a Store's Append failed in a way that may still
	// have stored the message (e.g. the write was sent but its
	// acknowledgement was lost). A Store wraps it (errors.Is) in such
	// errors; any other Append error means nothing was stored. The node
	// answers the push with code 3008 (pack.CodeOutcomeUnknown) instead of
	// 3005, so that a pusher does not blindly retry it into a duplicate.
	ErrOutcomeUnknown = errors.New("server: push outcome unknown (it may have been stored)")
)
