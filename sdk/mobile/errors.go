package plexmobile

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// Errors returned by this package. They are unexported on purpose: gomobile
// would bind exported error variables as settable globals. In Java and
// Objective-C only the message survives; each starts with one of these
// texts (listed in the package documentation), so apps can tell them apart
// by prefix when they must.
var (
	// errConfig: NewClient refused the Config; the message names the field.
	errConfig = errors.New("plexmobile: invalid config")
	// errClosed: the Client was closed by Close, or by the node with a
	// terminal code (the message then carries the code, e.g. 4001).
	errClosed = errors.New("plexmobile: client closed")
	// errNotConnected: Send before Connect, or while the Client is
	// suspended in background (BackgroundDisconnect).
	errNotConnected = errors.New("plexmobile: not connected")
	// errSendFailed: Send could not write the message: the reason follows
	// (timeout while reconnecting, reserved URI, message too large, body
	// not UTF-8 on the JSON codec).
	errSendFailed = errors.New("plexmobile: send failed")
	// errRefused: the node refused a Message or MessageRoom with a code
	// (in the text after "code "; ErrorCode reads it): nothing was
	// delivered.
	errRefused = errors.New("plexmobile: message refused")
	// errOutcomeUnknown: a Message or MessageRoom was written but may or
	// may not have been delivered: the node answered 3008, or the reply
	// was lost (connection dropped without a draining node's promise,
	// timeout after writing). Sending it again may deliver it twice.
	errOutcomeUnknown = errors.New("plexmobile: outcome unknown")
	// errPanic: an entry point panicked; the SDK recovered. Please report
	// it with the message, which holds the stack.
	errPanic = errors.New("plexmobile: internal error")
)

// guard recovers a panic in an exported entry point into *err. It must be
// deferred directly: defer guard(&err).
func guard(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: panic: %v\n%s", errPanic, r, debug.Stack())
	}
}
