package pack

import "errors"

// Decoding and encoding errors. Each invalid golden vector names one of these
// (testdata/vectors.json "error": frame_too_large, truncated, empty_body,
// bad_json, wrong_type, invalid_utf8, bad_protobuf; docs/protocol.md §16).
var (
	// ErrFrameTooLarge: a frame's declared length is over the decoder's limit.
	// Detected from the 4 header bytes alone, before anything is allocated.
	ErrFrameTooLarge = errors.New("pack: frame too large")
	// ErrTruncated: the input ended inside a frame.
	ErrTruncated = errors.New("pack: truncated frame")
	// ErrEmptyBody: a zero-length body where a message is required to detect the codec.
	ErrEmptyBody = errors.New("pack: empty frame body")
	// ErrBadJSON: the body is not a JSON object of the message shape.
	ErrBadJSON = errors.New("pack: malformed JSON message")
	// ErrWrongType: a known JSON field has the wrong type (e.g. "seq":"1").
	ErrWrongType = errors.New("pack: wrong field type")
	// ErrInvalidUTF8: a JSON string (or a body to be sent as one) is not UTF-8.
	ErrInvalidUTF8 = errors.New("pack: invalid UTF-8")
	// ErrBadProtobuf: the body is not a valid protobuf Message.
	ErrBadProtobuf = errors.New("pack: malformed protobuf message")
	// ErrUnknownCodec: a codec name that is neither "json" nor "protobuf".
	ErrUnknownCodec = errors.New("pack: unknown codec")
	// ErrUnknownOrder: a byte order name that is neither "big" nor "little".
	ErrUnknownOrder = errors.New("pack: unknown byte order")
)
