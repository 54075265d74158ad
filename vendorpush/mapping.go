package vendorpush

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plexpush/plex/pack"
)

// Meta keys of a plex push that MapMessage turns into a notification. A
// push client sets them in the push's meta; they reach a connected app too,
// which ignores them. Values are strings, numbers in decimal.
const (
	// MetaTitle: the alert's title.
	MetaTitle = "title"
	// MetaAlert: the alert's text. With neither title nor alert the
	// notification is a background one that wakes the app.
	MetaAlert = "alert"
	// MetaSound: the sound to play ("default": the system's).
	MetaSound = "sound"
	// MetaBadge: the badge number, decimal ≥ 0.
	MetaBadge = "badge"
	// MetaCollapse: newer notifications with the same value replace older
	// pending ones.
	MetaCollapse = "collapse"
	// MetaThread: groups notifications on iOS (aps.thread-id).
	MetaThread = "thread"
	// MetaPriority: "high" or "normal"; absent or other: PriorityAuto.
	MetaPriority = "priority"
	// MetaTTL: seconds the vendor keeps trying; "0": now or never.
	MetaTTL = "ttl"
	// MetaPush: "0" means this push never becomes a vendor notification
	// (for example a typing indicator that is stale once the user is back).
	MetaPush = "push"
	// MetaDataPrefix: a meta key "data.K" becomes data key "K".
	MetaDataPrefix = "data."
)

// Data keys MapMessage fills from the push itself. They are written after
// the "data.*" meta keys, so they win a clash.
const (
	DataURI     = "uri"          // the push's URI
	DataBody    = "body"         // the push's body, when it is UTF-8 and at most MaxDataBody bytes
	DataOmitted = "body_omitted" // "1" when the body was left out (too large or binary)
	DataSeq     = "seq"          // the stored push's seq, when it has one
	DataPersist = "persist"      // "1" when the push is stored: the app gets it on reconnect
	DataID      = "id"           // the node's message id (meta "id"), when set
	DataTime    = "ts"           // the node's accept time (meta "ts"), when set
)

// MaxDataBody is the largest push body MapMessage copies into the data.
// Both vendors cap a whole notification at 4 KiB (APNs: the JSON payload;
// FCM: the message); half of it for the body leaves room for the alert,
// the other data and JSON escaping. A larger body is left out and the app,
// woken by the notification, reads the push from plex.
const MaxDataBody = 2048

// MapMessage is the default mapping from a plex push to a notification
// (Config.Map). It returns ok == false for a push whose meta "push" is "0".
//
//   - Title ← meta "title", Body ← meta "alert", Sound ← meta "sound",
//     Badge ← meta "badge", Collapse ← meta "collapse", ThreadID ← meta
//     "thread", Priority ← meta "priority", TTL ← meta "ttl" (seconds).
//     Values that do not parse are ignored.
//   - Data ← every meta "data.K" as K (skipping keys a vendor reserves),
//     then "uri", "body" (or "body_omitted": "1"), "seq", "persist", "id",
//     "ts" as listed with the Data* constants.
//
// The result shares nothing with m. uid is unused; a custom mapping may
// use it (for example to localise).
func MapMessage(uid string, m *pack.Message, persisted bool) (n Notification, ok bool) {
	meta := m.Meta
	if meta[MetaPush] == "0" {
		return Notification{}, false
	}
	n = Notification{
		Title:    meta[MetaTitle],
		Body:     meta[MetaAlert],
		Sound:    meta[MetaSound],
		Collapse: meta[MetaCollapse],
		ThreadID: meta[MetaThread],
	}
	if v, err := strconv.ParseUint(meta[MetaBadge], 10, 31); err == nil {
		b := int(v)
		n.Badge = &b
	}
	switch meta[MetaPriority] {
	case "high":
		n.Priority = PriorityHigh
	case "normal":
		n.Priority = PriorityNormal
	}
	if v, ok := meta[MetaTTL]; ok {
		// 31 bits of seconds is 68 years, more than any vendor keeps.
		if s, err := strconv.ParseUint(v, 10, 31); err == nil {
			n.TTL = time.Duration(s) * time.Second
			if s == 0 {
				n.TTL = -1
			}
		}
	}

	data := make(map[string]string, 6)
	for k, v := range meta {
		if key, ok := strings.CutPrefix(k, MetaDataPrefix); ok && key != "" && !ReservedDataKey(key) {
			data[key] = v
		}
	}
	data[DataURI] = m.URI
	if len(m.Body) <= MaxDataBody && utf8.Valid(m.Body) {
		if len(m.Body) > 0 {
			data[DataBody] = string(m.Body)
		}
	} else {
		data[DataOmitted] = "1"
	}
	if m.Seq != 0 {
		data[DataSeq] = strconv.FormatInt(m.Seq, 10)
	}
	if persisted {
		data[DataPersist] = "1"
	}
	if v := meta[pack.MetaID]; v != "" {
		data[DataID] = v
	}
	if v := meta[pack.MetaTime]; v != "" {
		data[DataTime] = v
	}
	n.Data = data
	return n, true
}

// ReservedDataKey reports whether a vendor refuses key in the custom data:
// APNs keeps "aps" for itself; FCM refuses "from", "notification",
// "message_type", "collapse_key" and keys starting with "google" or "gcm".
func ReservedDataKey(key string) bool {
	switch key {
	case "aps", "from", "notification", "message_type", "collapse_key":
		return true
	}
	return strings.HasPrefix(key, "google") || strings.HasPrefix(key, "gcm")
}
