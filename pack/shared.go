package pack

import "sync"

// Shared is a message encoded at most once per codec and then shared by
// every connection it is written to: a broadcast to 10,000 connections
// encodes one frame (two if both codecs are in use) and every write queue
// holds a reference to the same immutable bytes.
type Shared struct {
	msg   Message
	order Order

	once [2]sync.Once
	buf  [2][]byte
	err  [2]error
}

// NewShared prepares m for encode-once delivery in byte order o. m must not
// be modified afterwards.
func NewShared(o Order, m Message) *Shared { return &Shared{msg: m, order: o} }

// Message returns the message (read only).
func (s *Shared) Message() *Message { return &s.msg }

// Frame returns the frame for codec c, encoding it on first use. The bytes
// are shared: callers must never modify them. AutoCodec means JSON.
func (s *Shared) Frame(c Codec) ([]byte, error) {
	i := 0
	if c == Protobuf {
		i = 1
	}
	s.once[i].Do(func() { s.buf[i], s.err[i] = EncodeFrame(s.order, c, &s.msg) })
	return s.buf[i], s.err[i]
}
