package webpush

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/plexpush/plex/vendorpush"
)

// ErrBadSubscription is wrapped by ParseSubscription's errors: the token
// is not a usable PushSubscription. Send returns it wrapped together with
// vendorpush.ErrInvalidToken, so the Dispatcher removes such a token.
var ErrBadSubscription = errors.New("webpush: bad subscription")

// Error is a reply from a push service other than 2xx.
type Error struct {
	// Status is the HTTP status.
	Status int
	// Message is the start of the reply body (at most 200 bytes), which
	// push services fill with a reason in prose or JSON.
	Message string
	// RetryAfter is the reply's Retry-After, zero when absent.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	s := "webpush: " + strconv.Itoa(e.Status)
	if t := http.StatusText(e.Status); t != "" {
		s += " " + t
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is maps the replies of RFC 8030 and RFC 8292:
//
//   - 404 Not Found and 410 Gone: the subscription expired or the user
//     revoked it (RFC 8030 §7.3) → vendorpush.ErrInvalidToken, so the
//     Dispatcher removes it;
//   - 413 Payload Too Large → vendorpush.ErrBadNotification;
//   - 401 and 403: the push service refused our VAPID token, or the
//     subscription was made for another application server key (RFC 8292
//     §4.2) → vendorpush.ErrAuth. A changed key makes every existing
//     subscription answer 403; they are not removed, since the operator
//     may put the old key back.
func (e *Error) Is(target error) bool {
	switch target {
	case vendorpush.ErrInvalidToken:
		return e.Status == 404 || e.Status == 410
	case vendorpush.ErrBadNotification:
		return e.Status == 413
	case vendorpush.ErrAuth:
		return e.Status == 401 || e.Status == 403
	}
	return false
}
