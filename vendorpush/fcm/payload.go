package fcm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/plexpush/plex/vendorpush"
)

// MaxTTL is the longest time FCM keeps a message: four weeks. Longer TTLs
// are sent as MaxTTL.
const MaxTTL = 28 * 24 * time.Hour

type request struct {
	Message message `json:"message"`
}

type message struct {
	Token        string            `json:"token"`
	Notification *notification     `json:"notification,omitempty"`
	Data         map[string]string `json:"data,omitempty"`
	Android      android           `json:"android"`
	APNS         *apnsConfig       `json:"apns,omitempty"`
}

type notification struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
}

type android struct {
	Priority     string               `json:"priority"`
	TTL          string               `json:"ttl,omitempty"`
	CollapseKey  string               `json:"collapse_key,omitempty"`
	Notification *androidNotification `json:"notification,omitempty"`
}

type androidNotification struct {
	Sound             string `json:"sound,omitempty"`
	NotificationCount *int   `json:"notification_count,omitempty"`
}

type apnsConfig struct {
	Headers map[string]string `json:"headers,omitempty"`
	Payload *apnsPayload      `json:"payload,omitempty"`
}

type apnsPayload struct {
	APS aps `json:"aps"`
}

type aps struct {
	Badge            *int   `json:"badge,omitempty"`
	Sound            string `json:"sound,omitempty"`
	ThreadID         string `json:"thread-id,omitempty"`
	ContentAvailable int    `json:"content-available,omitempty"`
}

// Body returns the JSON request body Send posts for n (see the package
// documentation); now dates apns-expiration. Errors wrap
// vendorpush.ErrBadNotification (a data key FCM reserves).
func Body(n *vendorpush.Notification, now time.Time) ([]byte, error) {
	for k := range n.Data {
		if vendorpush.ReservedDataKey(k) {
			return nil, fmt.Errorf("fcm: data key %q is reserved: %w", k, vendorpush.ErrBadNotification)
		}
	}
	m := message{Token: n.Token, Data: n.Data}
	bg, high := n.Background(), n.High()
	if n.Title != "" || n.Body != "" {
		m.Notification = &notification{Title: n.Title, Body: n.Body}
	}

	m.Android = android{Priority: "NORMAL", CollapseKey: n.Collapse}
	if high {
		m.Android.Priority = "HIGH"
	}
	switch {
	case n.TTL > 0:
		m.Android.TTL = seconds(min(n.TTL, MaxTTL))
	case n.TTL < 0:
		m.Android.TTL = "0s"
	}
	if n.Sound != "" || n.Badge != nil {
		m.Android.Notification = &androidNotification{Sound: n.Sound, NotificationCount: n.Badge}
	}

	// The apns override, for iOS devices registered with FCM: only what
	// FCM would not derive itself.
	h := map[string]string{}
	if bg {
		h["apns-push-type"] = "background"
		h["apns-priority"] = "5" // APNs refuses 10 for background pushes
	} else if n.Priority != vendorpush.PriorityAuto || m.Notification == nil {
		// FCM derives 10 for a message with a notification member only.
		h["apns-priority"] = "5"
		if high {
			h["apns-priority"] = "10"
		}
	}
	if n.Collapse != "" {
		h["apns-collapse-id"] = n.Collapse
	}
	switch {
	case n.TTL > 0:
		h["apns-expiration"] = strconv.FormatInt(now.Add(min(n.TTL, MaxTTL)).Unix(), 10)
	case n.TTL < 0:
		h["apns-expiration"] = "0"
	}
	a := aps{Badge: n.Badge, Sound: n.Sound, ThreadID: n.ThreadID}
	if bg {
		a.ContentAvailable = 1
	}
	if len(h) > 0 || a != (aps{}) {
		m.APNS = &apnsConfig{}
		if len(h) > 0 {
			m.APNS.Headers = h
		}
		if a != (aps{}) {
			m.APNS.Payload = &apnsPayload{APS: a}
		}
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // FCM counts bytes too
	if err := enc.Encode(request{Message: m}); err != nil {
		return nil, fmt.Errorf("fcm: encode message: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// seconds formats d as a protobuf Duration in JSON: "3600s", "1.5s".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}
