package vendorpush

import (
	"context"
	"strconv"
	"time"
)

// Notification is one vendor notification to one device. The zero value of
// every field but Token means "not set": the vendor's default applies.
type Notification struct {
	// Token is the device token (APNs: hex; FCM: a registration token).
	// A secret of sorts: whoever holds it and the sender's credentials can
	// reach the device. Never logged in full; see Redact.
	Token string

	// Title and Body are the visible alert. Both empty (and no Sound or
	// Badge) makes a background notification: it wakes the app, which
	// then reconnects to plex and reads what it missed.
	Title, Body string
	// Sound names a sound to play ("default" for the system's).
	Sound string
	// Badge sets the app icon's badge (APNs; on Android it is the
	// launcher's notification count). Nil leaves it; 0 clears it.
	Badge *int

	// Data is delivered to the app with the notification. Values are
	// strings, as both vendors require. Keys the vendors reserve ("aps";
	// "from", "notification", "message_type", "collapse_key", anything
	// starting with "google" or "gcm") make Send fail with
	// ErrBadNotification.
	Data map[string]string

	// Collapse makes a newer notification with the same value replace an
	// older one still pending (apns-collapse-id, at most 64 bytes;
	// android.collapse_key).
	Collapse string
	// ThreadID groups notifications in the iOS notification center
	// (aps.thread-id; with FCM it goes into the apns override).
	ThreadID string

	// Priority: see the constants.
	Priority Priority
	// TTL is how long the vendor keeps trying to deliver while the device
	// is unreachable. Zero: the vendor's default (APNs stores it for an
	// unspecified time; FCM four weeks). Negative: deliver now or never
	// (apns-expiration 0; FCM ttl "0s").
	TTL time.Duration
}

// Background reports whether n shows nothing to the user: no title, body,
// sound or badge. Such a notification is sent as a background (silent) one:
// APNs push type "background" with content-available, FCM data only.
func (n *Notification) Background() bool {
	return n.Title == "" && n.Body == "" && n.Sound == "" && n.Badge == nil
}

// Priority is how urgently the vendor should deliver.
type Priority int

const (
	// PriorityAuto: high for a visible alert, normal for a background
	// notification (APNs drops background pushes sent with priority 10;
	// Android demotes high-priority messages that never show anything).
	PriorityAuto Priority = iota
	// PriorityHigh: deliver now, waking the device (apns-priority 10,
	// android HIGH). Background APNs notifications still go with 5.
	PriorityHigh
	// PriorityNormal: the vendor may delay to save power (apns-priority 5,
	// android NORMAL).
	PriorityNormal
)

// High resolves PriorityAuto for n: whether n goes at high priority.
func (n *Notification) High() bool {
	switch n.Priority {
	case PriorityHigh:
		return true
	case PriorityNormal:
		return false
	}
	return !n.Background()
}

// Sender sends one notification. apns.Client and fcm.Client implement it.
// Send returns nil when the vendor accepted the notification (which is not
// delivery: the device may be off). Errors that mean "drop this token"
// satisfy errors.Is(err, ErrInvalidToken). Send must be safe for concurrent
// use and must return soon after ctx is done.
type Sender interface {
	Send(ctx context.Context, n Notification) error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, n Notification) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, n Notification) error { return f(ctx, n) }

// Redact returns what may be logged of a device token: its first 6
// characters and its length ("a1b2c3…(64)"). Six characters tell two
// devices of one user apart in logs and match a row in a database by
// prefix, while the token stays unusable; tokens of 12 characters or less
// show only their length.
func Redact(token string) string {
	n := strconv.Itoa(len(token))
	if len(token) <= 12 {
		return "…(" + n + ")"
	}
	return token[:6] + "…(" + n + ")"
}
