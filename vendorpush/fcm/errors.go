package fcm

import (
	"strconv"
	"time"

	"github.com/plexpush/plex/vendorpush"
)

// FCM error codes (google.firebase.fcm.v1.FcmError errorCode) that this
// package acts on.
const (
	CodeUnregistered        = "UNREGISTERED"           // 404: the app instance is gone
	CodeInvalidArgument     = "INVALID_ARGUMENT"       // 400: a field is wrong; the token when TokenField is set
	CodeSenderIDMismatch    = "SENDER_ID_MISMATCH"     // 403: the token belongs to another project (or we use the wrong one)
	CodeQuotaExceeded       = "QUOTA_EXCEEDED"         // 429
	CodeUnavailable         = "UNAVAILABLE"            // 503
	CodeInternal            = "INTERNAL"               // 500
	CodeThirdPartyAuthError = "THIRD_PARTY_AUTH_ERROR" // 401: the APNs key/certificate in the Firebase console
)

// Error is a non-200 reply from FCM.
type Error struct {
	// HTTPStatus is the HTTP status.
	HTTPStatus int
	// Status is the google.rpc status name ("NOT_FOUND", "INVALID_ARGUMENT").
	Status string
	// Code is the FcmError errorCode from the details, when given.
	Code string
	// Message is the reply's message, at most 200 bytes, with the device
	// token redacted should it appear.
	Message string
	// TokenField is set when a google.rpc.BadRequest detail names the field
	// "message.token": the token itself is malformed.
	TokenField bool
	// RetryAfter is the reply's Retry-After, zero when absent.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	s := "fcm: " + strconv.Itoa(e.HTTPStatus)
	if e.Status != "" {
		s += " " + e.Status
	}
	if e.Code != "" && e.Code != e.Status {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is makes UNREGISTERED, and INVALID_ARGUMENT about message.token, match
// vendorpush.ErrInvalidToken; and a 401 or a 403 other than
// SENDER_ID_MISMATCH match vendorpush.ErrAuth. SENDER_ID_MISMATCH matches
// neither: it is as likely our project id as the token.
func (e *Error) Is(target error) bool {
	switch target {
	case vendorpush.ErrInvalidToken:
		return e.Code == CodeUnregistered ||
			e.TokenField && (e.Code == CodeInvalidArgument || e.Status == CodeInvalidArgument)
	case vendorpush.ErrAuth:
		return e.HTTPStatus == 401 || e.HTTPStatus == 403 && e.Code != CodeSenderIDMismatch
	}
	return false
}

// AuthError is a refusal from the OAuth 2.0 token endpoint.
type AuthError struct {
	// HTTPStatus is the HTTP status.
	HTTPStatus int
	// Code is the reply's "error" ("invalid_grant", …).
	Code string
	// Description is the reply's "error_description", at most 200 bytes.
	Description string
	// RetryAfter is the reply's Retry-After, zero when absent.
	RetryAfter time.Duration
}

func (e *AuthError) Error() string {
	s := "fcm: token endpoint: " + strconv.Itoa(e.HTTPStatus)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// Is makes a 4xx refusal (other than 429) match vendorpush.ErrAuth: the
// service account, its key or the clock is wrong.
func (e *AuthError) Is(target error) bool {
	return target == vendorpush.ErrAuth && e.HTTPStatus >= 400 && e.HTTPStatus < 500 && e.HTTPStatus != 429
}
