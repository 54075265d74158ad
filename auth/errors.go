package auth

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/plexpush/plex/pack"
)

var (
	// ErrUnavailable is wrapped by every error that means "the check could
	// not be done" (webhook down, timeout, non-2xx reply, broken reply, ctx
	// done). Such an error never satisfies errors.Is(err, pack.CodeAuthFailed).
	ErrUnavailable = errors.New("auth: check unavailable")
	// ErrBadConfig is wrapped by every error NewJWT, NewWebhook and
	// LoadJWTKey return for a configuration that cannot work.
	ErrBadConfig = errors.New("auth: bad config")
)

const (
	// MaxUIDLen is the longest uid, in bytes, an authenticator returns.
	// 128 bytes holds an e-mail address, a UUID with a prefix or a tenant
	// path, yet keeps the uid small in every frame, log line and index that
	// repeats it.
	MaxUIDLen = 128
	// MaxReasonLen is the longest reason, in bytes, passed on from a webhook
	// or legacy callback to the app. Longer ones are replaced by a fixed
	// reason: the reason travels in the /auth/failed frame, which old apps
	// may show as is.
	MaxReasonLen = 128
)

// failed returns the error for invalid credentials with a fixed reason.
func failed(reason string) error {
	return &pack.CodeError{Code: pack.CodeAuthFailed, Reason: reason}
}

// unavailable wraps ErrUnavailable and, when non-nil, cause.
func unavailable(msg string, cause error) error {
	if cause == nil {
		return fmt.Errorf("%w: %s", ErrUnavailable, msg)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, msg, cause)
}

// badConfig wraps ErrBadConfig.
func badConfig(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadConfig}, args...)...)
}

// safeReason returns reason when it may be sent to the app: non-empty, at
// most MaxReasonLen bytes of printable UTF-8, and not containing the token.
// Otherwise it returns def.
func safeReason(reason, token, def string) string {
	if reason == "" || len(reason) > MaxReasonLen || !utf8.ValidString(reason) {
		return def
	}
	for _, r := range reason {
		if !unicode.IsPrint(r) {
			return def
		}
	}
	if token != "" && strings.Contains(reason, token) {
		return def
	}
	return reason
}

// uidProblem says why uid cannot be returned as a uid, or "" when it can: it
// must be non-empty, at most MaxUIDLen bytes, and a valid name by the
// node's one rule (pack.ValidName: UTF-8, no control characters), which the
// server applies again to every authenticator's uid.
func uidProblem(uid string) string {
	switch {
	case uid == "":
		return "empty uid"
	case len(uid) > MaxUIDLen:
		return "uid too long"
	}
	var ne *pack.NameError
	if errors.As(pack.ValidName(uid), &ne) {
		return "uid: " + ne.Reason
	}
	return ""
}
