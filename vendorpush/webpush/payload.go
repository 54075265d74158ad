package webpush

import (
	"encoding/json"
	"fmt"
	"maps"

	"github.com/plexpush/plex/vendorpush"
)

// Message is the JSON a service worker receives as the push's data
// (event.data.json() in the push event). Members are omitted when empty.
// The sample service worker, web/client/plex-sw.js, shows Title and Body
// with showNotification, uses Tag as the notification's tag, and hands
// Data to the notification (notification.data).
type Message struct {
	Title string            `json:"title,omitempty"` // Notification.Title (meta "title")
	Body  string            `json:"body,omitempty"`  // Notification.Body (meta "alert")
	Tag   string            `json:"tag,omitempty"`   // Notification.Collapse (meta "collapse")
	Badge *int              `json:"badge,omitempty"` // Notification.Badge (meta "badge"), for navigator.setAppBadge
	Sound string            `json:"sound,omitempty"` // Notification.Sound; browsers choose the sound, a worker may read it
	Data  map[string]string `json:"data,omitempty"`  // Notification.Data: uri, body, seq, … (vendorpush.MapMessage)
}

// Payload returns the plaintext for n: Message as JSON. When it is over
// MaxPlaintext and Data holds the push's body, the body is left out and
// data "body_omitted" set to "1" (the page reads the push from plex when
// it opens, as with the other vendors); when that is still too large the
// error wraps vendorpush.ErrBadNotification.
func Payload(n *vendorpush.Notification) ([]byte, error) {
	m := Message{Title: n.Title, Body: n.Body, Tag: n.Collapse, Badge: n.Badge, Sound: n.Sound, Data: n.Data}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxPlaintext {
		if _, ok := m.Data[vendorpush.DataBody]; ok {
			m.Data = maps.Clone(m.Data)
			delete(m.Data, vendorpush.DataBody)
			m.Data[vendorpush.DataOmitted] = "1"
			if b, err = json.Marshal(m); err != nil {
				return nil, err
			}
		}
	}
	if len(b) > MaxPlaintext {
		return nil, fmt.Errorf("webpush: message of %d bytes, at most %d: %w", len(b), MaxPlaintext, vendorpush.ErrBadNotification)
	}
	return b, nil
}
