package apns

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/plexpush/plex/vendorpush"
)

type alert struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
}

type aps struct {
	Alert            *alert `json:"alert,omitempty"`
	Badge            *int   `json:"badge,omitempty"`
	Sound            string `json:"sound,omitempty"`
	ThreadID         string `json:"thread-id,omitempty"`
	ContentAvailable int    `json:"content-available,omitempty"`
}

// Payload returns the JSON payload Send posts for n: "aps" (alert, sound,
// badge, thread-id; or content-available 1 for a background notification)
// beside n.Data's keys at the top level, as Apple's custom-data convention
// wants. Errors wrap vendorpush.ErrBadNotification: a data key "aps", or a
// payload over MaxPayload bytes.
func Payload(n *vendorpush.Notification) ([]byte, error) {
	a := aps{Badge: n.Badge, Sound: n.Sound, ThreadID: n.ThreadID}
	if n.Title != "" || n.Body != "" {
		a.Alert = &alert{Title: n.Title, Body: n.Body}
	}
	if n.Background() {
		a.ContentAvailable = 1
	}
	p := make(map[string]any, len(n.Data)+1)
	for k, v := range n.Data {
		p[k] = v
	}
	if _, ok := p["aps"]; ok {
		return nil, fmt.Errorf("apns: data key \"aps\" is reserved: %w", vendorpush.ErrBadNotification)
	}
	p["aps"] = a
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "<" as \u003c would spend 6 of the 4096 bytes
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("apns: encode payload: %w", err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(b) > MaxPayload {
		return nil, fmt.Errorf("apns: payload of %d bytes, at most %d: %w", len(b), MaxPayload, vendorpush.ErrBadNotification)
	}
	return b, nil
}
