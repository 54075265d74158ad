package pack

import (
	"errors"
	"io"
)

// Reader reads messages from an io.Reader with a Decoder: the streaming
// counterpart for blocking I/O (clients, tests, tools).
type Reader struct {
	r     io.Reader
	dec   *Decoder
	codec Codec
	buf   []byte
	rerr  error // a read error that came with data, reported once the data is used
}

// NewReader reads frames of byte order o, codec c (AutoCodec: detected from
// the first frame and then fixed) and body limit (<= 0: DefaultLimit).
func NewReader(r io.Reader, o Order, c Codec, limit int) *Reader {
	return &Reader{r: r, dec: NewDecoder(o, limit), codec: c, buf: make([]byte, 4096)}
}

// SetLimit changes the body limit for the following frames.
func (r *Reader) SetLimit(limit int) { r.dec.SetLimit(limit) }

// Codec returns the connection's codec (AutoCodec until the first frame).
func (r *Reader) Codec() Codec { return r.codec }

// ReadMessage reads the next message into m. At a clean end of stream it
// returns io.EOF; inside a frame, ErrTruncated.
func (r *Reader) ReadMessage(m *Message) error {
	for {
		body, ok, err := r.dec.Next()
		if err != nil {
			return err
		}
		if ok {
			if r.codec == AutoCodec {
				if r.codec, err = Detect(body); err != nil {
					return err
				}
			}
			return r.codec.Decode(body, m)
		}
		n, rerr := 0, r.rerr
		if rerr == nil {
			n, rerr = r.r.Read(r.buf)
		}
		if n > 0 {
			// io.Reader may return data together with an error (EOF
			// included); use the data first and report the error on the
			// next read instead of dropping it.
			r.rerr = rerr
			r.dec.Feed(r.buf[:n])
			continue
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				if err := r.dec.Finish(); err != nil {
					return err
				}
			}
			return rerr
		}
	}
}

// Writer batches frames in memory and writes them with one Write per Flush.
type Writer struct {
	w     io.Writer
	order Order
	codec Codec
	buf   []byte
}

// NewWriter writes frames of byte order o and codec c (AutoCodec: JSON).
func NewWriter(w io.Writer, o Order, c Codec) *Writer {
	if c == AutoCodec {
		c = JSON
	}
	return &Writer{w: w, order: o, codec: c}
}

// WriteMessage appends m as one frame to the batch; nothing is written yet.
func (w *Writer) WriteMessage(m *Message) error {
	var err error
	w.buf, err = AppendFrame(w.buf, w.order, w.codec, m)
	return err
}

// WriteFrame appends an already encoded frame (e.g. from Shared).
func (w *Writer) WriteFrame(frame []byte) { w.buf = append(w.buf, frame...) }

// Buffered returns the number of bytes waiting for Flush.
func (w *Writer) Buffered() int { return len(w.buf) }

// Flush writes every batched frame with one Write call.
func (w *Writer) Flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.w.Write(w.buf)
	w.buf = w.buf[:0]
	return err
}
