package pack

// Codec selects how a Message is encoded in a frame body.
// The zero value, AutoCodec, means "detect from the peer's first frame".
type Codec uint8

const (
	// AutoCodec detects the codec from the first frame: a JSON body starts
	// with '{' (0x7B), which can never start a valid protobuf Message
	// (it would be field 15 with the deprecated group wire type).
	AutoCodec Codec = iota
	// JSON is the original plex shape {"seq":…,"uri":"…","body":"…"}.
	JSON
	// Protobuf is plex.proto's Message.
	Protobuf
)

// String returns "auto", "json" or "protobuf".
func (c Codec) String() string {
	switch c {
	case JSON:
		return "json"
	case Protobuf:
		return "protobuf"
	}
	return "auto"
}

// ParseCodec accepts "auto" (or ""), "json", "protobuf" (or "proto").
func ParseCodec(s string) (Codec, error) {
	switch s {
	case "", "auto":
		return AutoCodec, nil
	case "json":
		return JSON, nil
	case "protobuf", "proto":
		return Protobuf, nil
	}
	return AutoCodec, ErrUnknownCodec
}

// Detect returns the codec of a first frame's body.
func Detect(body []byte) (Codec, error) {
	if len(body) == 0 {
		return AutoCodec, ErrEmptyBody
	}
	if body[0] == '{' {
		return JSON, nil
	}
	return Protobuf, nil
}

// Append appends m encoded with c to dst. AutoCodec encodes as JSON.
// On error dst is returned unchanged (nothing partial is appended).
func (c Codec) Append(dst []byte, m *Message) ([]byte, error) {
	var out []byte
	var err error
	if c == Protobuf {
		out, err = appendProto(dst, m)
	} else {
		out, err = appendJSON(dst, m)
	}
	if err != nil {
		return dst, err
	}
	return out, nil
}

// Decode decodes body into m, replacing m's fields (m.Meta's storage is
// reused). The decoded message never aliases body. AutoCodec detects.
// An empty body is the empty message on the protobuf codec (proto3 has no
// required fields) and ErrEmptyBody on the JSON codec. On error m's fields
// are unspecified.
func (c Codec) Decode(body []byte, m *Message) error {
	if c == AutoCodec {
		var err error
		if c, err = Detect(body); err != nil {
			return err
		}
	}
	if c == Protobuf {
		return decodeProto(body, m)
	}
	return decodeJSON(body, m)
}
