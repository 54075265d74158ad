package client

import (
	"errors"
	"fmt"
	"time"

	"github.com/plexpush/plex/pack"
)

// Errors returned by PlexClient and Conn. Errors that come from a node carry
// a *pack.CodeError as well, so errors.Is(err, pack.CodeAuthFailed) and
// friends work on them.
var (
	// ErrClosed: the PlexClient or Conn was closed.
	ErrClosed = errors.New("client: closed")
	// ErrAuth is wrapped, together with the node's *pack.CodeError, by every
	// error caused by refused credentials (a wrong inner secret, a bad app
	// token). Refused credentials are terminal: that connection stops
	// reconnecting.
	ErrAuth = errors.New("client: authentication refused")
	// ErrNoNode: no node could take the request before the wait ended
	// (every node down or reconnecting for RequestTimeout, or ctx ended).
	// The request was never written: retrying it cannot duplicate it.
	ErrNoNode = errors.New("client: no node available")
	// ErrQueueFull: Config.MaxPending requests already wait for a node.
	// The request was never written.
	ErrQueueFull = errors.New("client: too many requests waiting for a node")
	// ErrOutcomeUnknown: the request was written to a node, but its reply
	// never came (the connection was lost, the node stalled, ctx ended or
	// the client was closed), or the node answered code 3008
	// (pack.CodeOutcomeUnknown: it could not tell whether its store kept
	// the push; the error then also carries that *pack.CodeError). The
	// push may or may not have been delivered; retrying it may deliver it
	// twice. A node's /disconnect does not cause it (an orderly shutdown,
	// 3000, or any other code): requests the node did not answer before it
	// were not executed and go to another node (protocol §13.4). Code 3005 (pack.CodeInternal) is
	// not it either: the node then knows nothing was stored.
	ErrOutcomeUnknown = errors.New("client: request written, outcome unknown")
)

// RetryError is the error passed to ConnConfig.OnState with
// StateReconnecting: why the connection ended (or the attempt failed) and
// how long the Conn waits before the next attempt.
type RetryError struct {
	// Err is the cause: a network error, a heartbeat timeout, or a
	// *pack.CodeError with a 3xxx code from the node.
	Err error
	// Delay is the jittered backoff before the next attempt.
	Delay time.Duration
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("client: reconnecting in %v: %v", e.Delay.Round(time.Millisecond), e.Err)
}

// Unwrap returns the cause.
func (e *RetryError) Unwrap() error { return e.Err }

// terminal reports whether err ends reconnecting: a 4xxx code that the node
// sent on /auth/failed or /disconnect (see pack.Code.Reconnect).
func terminal(err error) bool {
	var ce *pack.CodeError
	return errors.As(err, &ce) && !ce.Code.Reconnect()
}

// terminalError dresses a terminal node error for the caller: refused
// credentials also match ErrAuth.
func terminalError(err error) error {
	if errors.Is(err, pack.CodeAuthFailed) {
		return fmt.Errorf("%w: %w", ErrAuth, err)
	}
	return err
}

// requestError is the error of a node's /error answer to a request: its
// *pack.CodeError, which for 3008 also matches ErrOutcomeUnknown, so that
// the caller has one test for "may have been executed" whether the reply
// was lost or the node could not tell.
func requestError(m *pack.Message) error {
	ce := pack.ErrorOf(m)
	if ce.Code == pack.CodeOutcomeUnknown {
		return fmt.Errorf("%w: %w", ErrOutcomeUnknown, ce)
	}
	return ce
}

// errNotSent completes a request that never reached the socket (its
// connection died first): the PlexClient retries it on another node.
var errNotSent = errors.New("client: request not sent")

// errStalled kills a node connection whose oldest request got no reply
// within Config.RequestTimeout.
var errStalled = errors.New("client: node stalled: no reply within the request timeout")

// errSilent kills a node connection that held requests and sent nothing,
// not even a heartbeat echo, for silentDead (silence.go).
var errSilent = errors.New("client: node silent: no frame, not even a heartbeat echo")

// errHeartbeat kills a connection that received nothing within the
// heartbeat timeout the node announced.
var errHeartbeat = errors.New("client: heartbeat timeout: nothing received from the node")

// errNotQueued stops a dying link's reader when a message could not be
// queued for the dispatcher.
var errNotQueued = errors.New("client: connection closing; message not queued")
