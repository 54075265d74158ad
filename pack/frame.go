package pack

import "math"

// HeaderSize is the size of a frame's length header.
const HeaderSize = 4

// Frame limits (body bytes). A node applies AuthLimit until a connection has
// authenticated and its configured limit afterwards.
const (
	// DefaultAuthLimit bounds frames before auth: room for a large JWT and
	// meta, small enough that 10,000 unauthenticated sockets cannot pin more
	// than 80 MiB even if each sent a whole frame.
	DefaultAuthLimit = 8 << 10
	// DefaultLimit bounds frames after auth (1 MiB), the DESIGN default.
	DefaultLimit = 1 << 20
	// MaxLimit is the largest length a header can express.
	MaxLimit = math.MaxUint32
)

// AppendFrame appends one frame holding m, encoded with codec c, to dst.
// The header is reserved first and filled in after the body, so the body is
// encoded straight into dst with no intermediate copy.
func AppendFrame(dst []byte, o Order, c Codec, m *Message) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	out, err := c.Append(dst, m)
	if err != nil {
		return dst[:start], err
	}
	n := len(out) - start - HeaderSize
	if uint64(n) > MaxLimit {
		return dst[:start], ErrFrameTooLarge
	}
	o.PutHeader(out[start:], uint32(n))
	return out, nil
}

// EncodeFrame returns a new frame holding m, or nil and the error.
func EncodeFrame(o Order, c Codec, m *Message) ([]byte, error) {
	b, err := AppendFrame(make([]byte, 0, 64+len(m.URI)+len(m.Body)), o, c, m)
	if err != nil {
		return nil, err
	}
	return b, nil
}
