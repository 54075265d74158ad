package apns

import (
	"strconv"
	"time"

	"github.com/plexpush/plex/vendorpush"
)

// Reasons APNs gives in an error reply's "reason" that this package acts
// on. Apple documents more; every one is kept in Error.Reason.
const (
	ReasonBadDeviceToken         = "BadDeviceToken"         // 400: not a token of this environment
	ReasonDeviceTokenNotForTopic = "DeviceTokenNotForTopic" // 400: the token is for another app (or our topic is wrong)
	ReasonUnregistered           = "Unregistered"           // 410: the app was removed from the device
	ReasonExpiredToken           = "ExpiredToken"           // 410: the device token expired
	ReasonExpiredProviderToken   = "ExpiredProviderToken"   // 403: our JWT is older than an hour
	ReasonInvalidProviderToken   = "InvalidProviderToken"   // 403: bad key, key id or team id
	ReasonTooManyRequests        = "TooManyRequests"        // 429: too many notifications to one device
	ReasonPayloadTooLarge        = "PayloadTooLarge"        // 413
)

// Error is a non-200 reply from APNs.
type Error struct {
	// Status is the HTTP status.
	Status int
	// Reason is the reply's "reason", empty when the body had none.
	Reason string
	// Timestamp is, for 410 replies, when APNs last knew the token was no
	// longer valid; zero otherwise.
	Timestamp time.Time
	// RetryAfter is the reply's Retry-After, zero when absent.
	RetryAfter time.Duration
	// ID is the reply's apns-id, the id Apple support asks about.
	ID string
}

func (e *Error) Error() string {
	s := "apns: " + strconv.Itoa(e.Status)
	if e.Reason != "" {
		s += " " + e.Reason
	}
	return s
}

// Is makes a 410 reply, and a 400 BadDeviceToken, match
// vendorpush.ErrInvalidToken, and a 403 match vendorpush.ErrAuth (every
// 403 reason concerns our provider token or key).
func (e *Error) Is(target error) bool {
	switch target {
	case vendorpush.ErrInvalidToken:
		return e.Status == 410 || e.Status == 400 && e.Reason == ReasonBadDeviceToken
	case vendorpush.ErrAuth:
		return e.Status == 403
	}
	return false
}
