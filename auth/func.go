package auth

import (
	"context"
	"net"
)

// Func adapts a function to an authenticator. The function must follow the
// package's error contract; Func adds two guards: a nil error with an empty
// uid becomes a pack.CodeAuthFailed error ("empty uid"), and a uid over
// MaxUIDLen bytes, not UTF-8 or with control characters becomes an
// ErrUnavailable error, since it is the function's fault, not the app's.
type Func func(ctx context.Context, token string, remote net.Addr) (uid string, err error)

// Authenticate calls f.
func (f Func) Authenticate(ctx context.Context, token string, remote net.Addr) (string, error) {
	uid, err := f(ctx, token, remote)
	if err != nil {
		return "", err
	}
	return checkUID(uid)
}

// checkUID applies the guards of Func to a uid an application function
// accepted.
func checkUID(uid string) (string, error) {
	if uid == "" {
		return "", failed("empty uid")
	}
	if p := uidProblem(uid); p != "" {
		return "", unavailable("authenticator returned a bad uid: "+p, nil)
	}
	return uid, nil
}

// Legacy adapts the authentication callback of the original plex,
// func(body string) (ok bool, uidOrReason string), where body is the token:
//
//   - ok and a non-empty uid: the uid (over MaxUIDLen bytes, not UTF-8 or
//     with control characters: an ErrUnavailable error, the callback's
//     fault);
//   - ok and an empty uid: pack.CodeAuthFailed, reason "empty uid";
//   - not ok: pack.CodeAuthFailed with the returned string as the reason
//     when it is at most MaxReasonLen bytes of printable text and does not
//     contain the token, else the reason "token rejected".
//
// The callback cannot be cancelled, so Legacy does not call it once ctx is
// done (it returns an ErrUnavailable error wrapping ctx.Err()). Legacy
// panics if fn is nil, like other constructors given no function.
func Legacy(fn func(body string) (bool, string)) Func {
	if fn == nil {
		panic("auth: Legacy called with a nil callback")
	}
	return func(ctx context.Context, token string, _ net.Addr) (string, error) {
		if err := ctx.Err(); err != nil {
			return "", unavailable("not called", err)
		}
		ok, s := fn(token)
		if !ok {
			return "", failed(safeReason(s, token, "token rejected"))
		}
		return checkUID(s)
	}
}
