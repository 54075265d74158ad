package pack

// Message is one plex message: the body of one frame.
//
// Body is []byte so that protobuf peers can carry binary payloads and so that
// a node forwards bodies without converting them. On the JSON codec the body
// travels as a JSON string and therefore must be valid UTF-8; encoding a
// non-UTF-8 body with JSON fails with ErrInvalidUTF8 rather than corrupting it.
type Message struct {
	// Seq is the per-user sequence of a stored push, or a request id that the
	// reply repeats. Zero is omitted on the wire.
	Seq int64
	// URI names what the message is; see uri.go for the reserved ones.
	URI string
	// Body is the payload. Empty is omitted on the wire.
	Body []byte
	// Meta carries headers (see the Meta* keys). Omitted on the wire when empty.
	Meta map[string]string
}

// Reset clears m for reuse, keeping the Meta map's storage.
func (m *Message) Reset() {
	m.Seq, m.URI, m.Body = 0, "", nil
	clear(m.Meta)
}

// Get returns the value of a meta key, "" when absent.
func (m *Message) Get(key string) string { return m.Meta[key] }

// Set sets a meta key, creating the map when needed.
func (m *Message) Set(key, value string) {
	if m.Meta == nil {
		m.Meta = make(map[string]string, 2)
	}
	m.Meta[key] = value
}
