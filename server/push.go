package server

import (
	"time"

	"github.com/plexpush/plex/pack"
)

// Target names who a push goes to: exactly one of a user, a list of users,
// a room, or everyone; or one device of a user (UID and Device). Each uid,
// room and device must be a valid name (pack.ValidName: 1–256 bytes of
// UTF-8, no control character); a push naming another is refused with an
// error matching pack.ErrBadName and ErrBadTarget (4004 to push clients,
// HTTP 400).
type Target struct {
	UID  string
	UIDs []string
	Room string
	All  bool
	// Device, with UID, narrows the push to the connections of that user
	// that logged in with that device id (meta "device", docs/protocol.md
	// §9). Persistent: stored under the user's seqs and replayed to that
	// device only.
	Device string `json:",omitempty"`
	// App is the app whose users or room are addressed ("" = the default
	// app). Push clients and HTTP callers are bound to their secret's app.
	App string
}

// In returns t addressed within app.
func (t Target) In(app string) Target { t.App = app; return t }

// User targets every connection of one user.
func User(uid string) Target { return Target{UID: uid} }

// Users targets every connection of each user.
func Users(uids ...string) Target { return Target{UIDs: uids} }

// Room targets every connection of every member of a room.
func Room(name string) Target { return Target{Room: name} }

// Everyone targets every connection.
func Everyone() Target { return Target{All: true} }

// Device targets the connections of one device of a user.
func Device(uid, device string) Target { return Target{UID: uid, Device: device} }

// check reports why t cannot be pushed to: not exactly one target
// (ErrBadTarget), or a uid or room that is not a valid name
// (pack.ValidName; the error matches pack.ErrBadName and ErrBadTarget).
func (t Target) check() error {
	if !t.valid() {
		return ErrBadTarget
	}
	switch {
	case t.Device != "":
		if err := checkName("uid", t.UID); err != nil {
			return err
		}
		return checkName("device", t.Device)
	case t.UID != "":
		return checkName("uid", t.UID)
	case t.Room != "":
		return checkName("room", t.Room)
	}
	for _, uid := range t.UIDs {
		if err := checkName("uid", uid); err != nil {
			return err
		}
	}
	return nil
}

func (t Target) valid() bool {
	n := 0
	if t.UID != "" {
		n++
	}
	if len(t.UIDs) > 0 {
		n++
	}
	if t.Room != "" {
		n++
	}
	if t.All {
		n++
	}
	return n == 1 && (t.Device == "" || t.UID != "")
}

// PushOption adjusts one push.
type PushOption func(*pushOptions)

type pushOptions struct {
	persist bool
	ttl     time.Duration
	ackBy   time.Duration // AckWithin (0: the app's default)
	local   bool          // delivered from the bus: do not publish again
	badTTL  bool          // the request's ttl_ms was out of range (ErrBadTTL)
}

// MaxPushTTL bounds a persistent push's TTL (ttl_ms, Persist): a year.
const MaxPushTTL = 365 * 24 * time.Hour

// Persist stores the push until the app acks it or ttl passes (zero ttl:
// Config.PersistTTL), and replays it after reconnects. Only for pushes to
// users.
func Persist(ttl time.Duration) PushOption {
	return func(o *pushOptions) { o.persist, o.ttl = true, ttl }
}

// AckWithin asks, for a persistent push, for the vendor fallback
// (Config.OnUnacked) when no device of the user (of the target device, for
// a device push) acked it within d: the app holds a connection that looks
// alive but does not process pushes (an OS froze it). Zero: the app's
// default (App.AckTimeout); none when both are zero. A push that found
// the user offline fires Config.OnUndelivered instead, never both.
func AckWithin(d time.Duration) PushOption {
	return func(o *pushOptions) { o.ackBy = d }
}

// Outcome says what a push did (pack.Outcome, the /reply body): never a
// silent success, a push that reached nobody says so.
type Outcome = pack.Outcome
