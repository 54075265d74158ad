package pack

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

// vectorStream returns every valid vector frame of one order and codec in
// one stream, with the messages it holds.
func vectorStream(t testing.TB, o Order, c Codec) ([]byte, []Message) {
	t.Helper()
	var stream []byte
	var msgs []Message
	for _, v := range loadVectors(t).Valid {
		if v.Order != o.String() || v.Codec != c.String() || v.Limit > 0 {
			continue
		}
		stream = append(stream, mustHex(t, v.FrameHex)...)
		msgs = append(msgs, v.Message.message(t))
	}
	return stream, msgs
}

// readAll reads messages until an error and returns both.
func readAll(r *Reader) ([]Message, error) {
	var msgs []Message
	for {
		var m Message
		if err := r.ReadMessage(&m); err != nil {
			return msgs, err
		}
		msgs = append(msgs, m)
	}
}

func TestReader(t *testing.T) {
	wrappers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"plain", func(r io.Reader) io.Reader { return r }},
		{"OneByteReader", iotest.OneByteReader},
		{"HalfReader", iotest.HalfReader},
		{"DataErrReader", iotest.DataErrReader}, // data and io.EOF together
	}
	for _, o := range orders {
		for _, c := range bothCodecs {
			stream, want := vectorStream(t, o, c)
			// The first frame decides the codec; an empty protobuf body
			// cannot, so start with a frame that has a URI.
			require.NotEmpty(t, want[0].URI)
			for _, w := range wrappers {
				t.Run(o.String()+"-"+c.String()+"-"+w.name, func(t *testing.T) {
					r := NewReader(w.wrap(bytes.NewReader(stream)), o, AutoCodec, 0)
					require.Equal(t, AutoCodec, r.Codec(), "codec before the first frame")
					got, err := readAll(r)
					require.ErrorIs(t, err, io.EOF, "a clean end of stream")
					require.Equal(t, c, r.Codec(), "codec detected from the first frame")
					requireSameOutcome(t, outcome{msgs: want}, outcome{msgs: got}, w.name)
				})
			}
		}
	}
}

func TestReaderTruncated(t *testing.T) {
	full := mustEncode(t, BigEndian, JSON, &Message{URI: URIAuth, Body: []byte("12345")})
	tests := []struct {
		name  string
		input []byte
		msgs  int
		want  error
	}{
		{"empty stream", nil, 0, io.EOF},
		{"EOF between frames", full, 1, io.EOF},
		{"EOF inside the header", full[:2], 0, ErrTruncated},
		{"EOF inside the body", full[:10], 0, ErrTruncated},
		{"EOF inside the second frame", append(bytes.Clone(full), full[:len(full)-1]...), 1, ErrTruncated},
	}
	for _, tt := range tests {
		for _, wrap := range []func(io.Reader) io.Reader{
			func(r io.Reader) io.Reader { return r }, iotest.OneByteReader, iotest.DataErrReader,
		} {
			r := NewReader(wrap(bytes.NewReader(tt.input)), BigEndian, JSON, 0)
			got, err := readAll(r)
			require.ErrorIs(t, err, tt.want, tt.name)
			require.Len(t, got, tt.msgs, tt.name)
			require.ErrorIs(t, r.ReadMessage(&Message{}), tt.want, "%s: the error repeats", tt.name)
		}
	}
}

func TestReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	frame := mustEncode(t, BigEndian, JSON, &Message{URI: "/a"})

	// A read error is returned as is, after the data that came before it.
	r := NewReader(io.MultiReader(bytes.NewReader(frame), iotest.ErrReader(boom)), BigEndian, JSON, 0)
	got, err := readAll(r)
	require.ErrorIs(t, err, boom)
	require.Len(t, got, 1)

	// A timeout is not fatal: the next call reads on.
	r = NewReader(iotest.TimeoutReader(bytes.NewReader(append(bytes.Clone(frame[:3]), frame[3:]...))), BigEndian, JSON, 0)
	r.buf = r.buf[:3] // first read gets 3 bytes, second times out
	var m Message
	require.ErrorIs(t, r.ReadMessage(&m), iotest.ErrTimeout)
	require.NoError(t, r.ReadMessage(&m))
	require.Equal(t, "/a", m.URI)

	// Codec errors do not break the framing: the next frame still decodes.
	stream := append(frameOf(BigEndian, `{"seq":"x"}`), frame...)
	r = NewReader(bytes.NewReader(stream), BigEndian, JSON, 0)
	require.ErrorIs(t, r.ReadMessage(&m), ErrWrongType)
	require.NoError(t, r.ReadMessage(&m))
	require.Equal(t, "/a", m.URI)

	// Over the limit: sticky.
	r = NewReader(bytes.NewReader(append(header(BigEndian, 100), frame...)), BigEndian, JSON, 99)
	require.ErrorIs(t, r.ReadMessage(&m), ErrFrameTooLarge)
	require.ErrorIs(t, r.ReadMessage(&m), ErrFrameTooLarge)

	// Empty first body: no codec to detect.
	r = NewReader(bytes.NewReader(header(BigEndian, 0)), BigEndian, AutoCodec, 0)
	require.ErrorIs(t, r.ReadMessage(&m), ErrEmptyBody)
}

func frameOf(o Order, body string) []byte { return frame(o, body) }

// TestReaderSetLimit: the auth frame under the small limit, then larger.
func TestReaderSetLimit(t *testing.T) {
	var stream []byte
	stream, _ = AppendFrame(stream, LittleEndian, Protobuf, &Message{URI: URIAuth, Body: []byte("t")})
	stream, _ = AppendFrame(stream, LittleEndian, Protobuf, &Message{URI: "/big", Body: make([]byte, 10_000)})

	r := NewReader(bytes.NewReader(stream), LittleEndian, AutoCodec, DefaultAuthLimit)
	var m Message
	require.NoError(t, r.ReadMessage(&m))
	r.SetLimit(DefaultLimit)
	require.NoError(t, r.ReadMessage(&m), "after raising the limit")
	require.Len(t, m.Body, 10_000)

	r = NewReader(bytes.NewReader(stream), LittleEndian, AutoCodec, DefaultAuthLimit)
	require.NoError(t, r.ReadMessage(&m))
	require.ErrorIs(t, r.ReadMessage(&m), ErrFrameTooLarge, "without raising the limit")
}

// endless yields a header declaring n bytes and then zeros forever.
type endless struct {
	n    uint32
	sent bool
}

func (e *endless) Read(p []byte) (int, error) {
	if !e.sent {
		e.sent = true
		return copy(p, header(BigEndian, e.n)), nil
	}
	clear(p)
	return len(p), nil
}

// TestReaderHugeLength: a 4 GiB header is refused before anything is read
// for it, and under the largest limit memory grows only with the bytes
// actually read.
func TestReaderHugeLength(t *testing.T) {
	var m Message
	r := NewReader(&endless{n: math.MaxUint32}, BigEndian, JSON, 0)
	require.ErrorIs(t, r.ReadMessage(&m), ErrFrameTooLarge)

	r = NewReader(nil, BigEndian, JSON, math.MaxInt) // the largest limit there is
	r.r = io.LimitReader(&endless{n: uint32(r.dec.Limit())}, 64<<10)
	require.ErrorIs(t, r.ReadMessage(&m), ErrTruncated)
	// What the reader holds, not the process's allocation counters (other
	// goroutines and the race runtime allocate too).
	held := cap(r.dec.buf) + cap(r.buf)
	require.Less(t, held, 512<<10, "holding %d bytes after reading 64 KiB of a 4 GiB frame", held)
}

// countingWriter counts Write calls.
type countingWriter struct {
	bytes.Buffer
	writes int
	err    error
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.err != nil {
		return 0, w.err
	}
	return w.Buffer.Write(p)
}

func TestWriterBatches(t *testing.T) {
	for _, o := range orders {
		for _, c := range []Codec{AutoCodec, JSON, Protobuf} {
			t.Run(o.String()+"-"+c.String(), func(t *testing.T) {
				cw := &countingWriter{}
				w := NewWriter(cw, o, c)
				require.NoError(t, w.Flush(), "empty flush")
				require.Zero(t, cw.writes, "an empty Flush writes nothing")

				var want []Message
				for i := range 100 {
					m := Message{Seq: int64(i + 1), URI: "/chat", Body: []byte("hello")}
					require.NoError(t, w.WriteMessage(&m))
					want = append(want, m)
				}
				shared := NewShared(o, Message{URI: "/all", Body: []byte("broadcast")})
				wantCodec := c
				if wantCodec == AutoCodec {
					wantCodec = JSON
				}
				fr, err := shared.Frame(wantCodec)
				require.NoError(t, err)
				w.WriteFrame(fr)
				want = append(want, *shared.Message())

				require.Zero(t, cw.writes, "nothing is written before Flush")
				require.Positive(t, w.Buffered())
				require.NoError(t, w.Flush())
				require.Equal(t, 1, cw.writes, "got Write calls, want one per Flush")
				require.Zero(t, w.Buffered())

				got, err := readAll(NewReader(&cw.Buffer, o, wantCodec, 0))
				require.ErrorIs(t, err, io.EOF)
				requireSameOutcome(t, outcome{msgs: want}, outcome{msgs: got}, "read back")
			})
		}
	}
}

func TestWriterErrors(t *testing.T) {
	boom := errors.New("boom")
	cw := &countingWriter{err: boom}
	w := NewWriter(cw, BigEndian, JSON)
	require.NoError(t, w.WriteMessage(&Message{URI: "/a"}))
	n := w.Buffered()

	// A message JSON cannot carry leaves the batch as it was.
	require.ErrorIs(t, w.WriteMessage(&Message{URI: "/a", Body: []byte{0xff}}), ErrInvalidUTF8)
	require.Equal(t, n, w.Buffered(), "a failed WriteMessage appends nothing")

	require.ErrorIs(t, w.Flush(), boom)
	require.Zero(t, w.Buffered(), "the batch is dropped after a failed write")
}
