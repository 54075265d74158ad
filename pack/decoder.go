package pack

import "math"

// Decoder splits a byte stream into frame bodies without doing any I/O
// (sans-IO): the caller feeds whatever bytes arrived, split anywhere, and
// pulls whole bodies out.
//
// The declared length of every frame is checked against the limit as soon
// as its 4 header bytes are known, before any byte of the body is buffered;
// the buffer then grows only with bytes actually received, so a peer that
// declares a large frame and sends little costs little.
//
// When the input holds whole frames, Next returns slices of the caller's own
// bytes (no copy). Only a frame split across Feed calls is copied, into a
// buffer that is released when it is no longer needed, so an idle
// connection's decoder holds no memory.
//
// Once Next returns an error the Decoder is broken and returns the same
// error forever: a framing error cannot be resynchronised.
type Decoder struct {
	order  Order
	failed bool // a frame was over the limit: the sticky error is ErrFrameTooLarge
	limit  uint32
	in     []byte // unread part of the caller's last Feed
	buf    []byte // copied bytes, logically before in; buf[off:] is unread
	off    int    // start of the unread part of buf, always a frame boundary
	// 64 bytes: a node embeds one per connection (no error interface here).
}

// NewDecoder returns a decoder for frames of byte order o whose bodies are at
// most limit bytes (limit <= 0 means DefaultLimit).
func NewDecoder(o Order, limit int) *Decoder {
	d := &Decoder{order: o}
	d.SetLimit(limit)
	return d
}

// SetLimit changes the limit for every frame that Next has not returned yet
// (a node raises it after auth; frames that arrived in the same read as the
// auth frame get the new limit). limit <= 0 means DefaultLimit.
func (d *Decoder) SetLimit(limit int) {
	switch {
	case limit <= 0:
		d.limit = DefaultLimit
	case uint64(limit) > maxDecoderLimit:
		d.limit = maxDecoderLimit
	default:
		d.limit = uint32(limit)
	}
}

// maxDecoderLimit is the largest limit: what a header can express, and on
// 32-bit platforms (gomobile's armv7 and 386) small enough that header plus
// body still fits in an int.
const maxDecoderLimit = min(MaxLimit, math.MaxInt-HeaderSize)

// Limit returns the current limit.
func (d *Decoder) Limit() int { return int(d.limit) }

// Feed hands the decoder the next bytes of the stream. The decoder keeps a
// reference to p (it does not copy it) until Next has returned ok == false,
// so p must not change until then. Feeding before the previous input is
// drained is allowed; the remainder is copied.
func (d *Decoder) Feed(p []byte) {
	if d.failed {
		return
	}
	if len(d.in) > 0 {
		if d.off > 0 {
			d.buf = d.buf[:copy(d.buf, d.buf[d.off:])]
			d.off = 0
		}
		d.buf = append(d.buf, d.in...)
	}
	d.in = p
}

// Next returns the next whole frame body. ok is false when more input is
// needed (or after an error). The body is valid until the next call to Next
// or Feed; decode it or copy it before then.
func (d *Decoder) Next() (body []byte, ok bool, err error) {
	if d.failed {
		return nil, false, ErrFrameTooLarge
	}
	if len(d.buf) == 0 {
		// Fast path: frames straight from the caller's bytes.
		if len(d.in) < HeaderSize {
			d.keep()
			return nil, false, nil
		}
		n := d.order.Header(d.in)
		if n > d.limit {
			return d.fail()
		}
		end := HeaderSize + int(n)
		if len(d.in) < end {
			d.keep()
			return nil, false, nil
		}
		body, d.in = d.in[HeaderSize:end:end], d.in[end:]
		return body, true, nil
	}
	// Slow path: complete the frame that was split across Feed calls. buf
	// holds more than one frame only when Feed came before the previous
	// input was drained.
	if len(d.buf)-d.off < HeaderSize {
		d.take(HeaderSize - (len(d.buf) - d.off))
		if len(d.buf)-d.off < HeaderSize {
			return nil, false, nil
		}
	}
	n := d.order.Header(d.buf[d.off:])
	if n > d.limit {
		return d.fail()
	}
	// Compare what is missing, not an end offset: off+HeaderSize+n can
	// wrap an int on 32-bit platforms when the limit is near maxDecoderLimit
	// and buf holds earlier frames (off > 0); n alone always fits.
	if missing := int(n) - (len(d.buf) - d.off - HeaderSize); missing > 0 {
		d.take(missing)
		if len(d.buf)-d.off-HeaderSize < int(n) {
			return nil, false, nil
		}
	}
	end := d.off + HeaderSize + int(n) // <= len(d.buf): no wrap
	body = d.buf[d.off+HeaderSize : end : end]
	d.off = end
	if d.off == len(d.buf) {
		// Nothing unread is left. body keeps the old array alive until the
		// caller drops it; the next append may reuse it only after the next
		// Next or Feed, when body is no longer valid.
		d.off = 0
		if cap(d.buf) > maxKeptBuffer {
			d.buf = nil
		} else {
			d.buf = d.buf[:0]
		}
	}
	return body, true, nil
}

// Buffered returns how many bytes are held for an incomplete frame.
func (d *Decoder) Buffered() int {
	return len(d.buf) - d.off + len(d.in)
}

// Finish reports ErrTruncated when the stream ended inside a frame, or the
// decoder's error if it has one.
func (d *Decoder) Finish() error {
	if d.failed {
		return ErrFrameTooLarge
	}
	if d.Buffered() > 0 {
		return ErrTruncated
	}
	return nil
}

// Err returns the sticky error, if any.
func (d *Decoder) Err() error {
	if d.failed {
		return ErrFrameTooLarge
	}
	return nil
}

// fail makes ErrFrameTooLarge sticky (the only error a decoder finds).
func (d *Decoder) fail() ([]byte, bool, error) {
	d.failed = true
	d.in, d.buf, d.off = nil, nil, 0
	return nil, false, ErrFrameTooLarge
}

// take moves up to n bytes of input into buf.
func (d *Decoder) take(n int) {
	if n > len(d.in) {
		n = len(d.in)
	}
	d.buf = append(d.buf, d.in[:n]...)
	d.in = d.in[n:]
	if len(d.in) == 0 {
		d.in = nil // do not keep the caller's array reachable
	}
}

// keep copies the unread input into buf: the caller may reuse its bytes,
// and an idle decoder does not keep them reachable.
func (d *Decoder) keep() {
	d.buf = append(d.buf, d.in...)
	d.in = nil
}

// maxKeptBuffer is the largest split-frame buffer kept for reuse; larger ones
// go back to the garbage collector so idle connections hold nothing big.
const maxKeptBuffer = 512

// Retain copies any unread input into the decoder's own buffer so the
// caller may reuse the bytes it fed. Call it when stopping before Next
// returned ok == false (e.g. while a connection's auth is pending).
func (d *Decoder) Retain() { d.keep() }
