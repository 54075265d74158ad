package pack

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// splitBodies runs the framing layer alone: it feeds chunks and returns a
// copy of every body, then Finish's error (or the first Next error).
func splitBodies(o Order, limit int, chunks ...[]byte) ([][]byte, error) {
	var bodies [][]byte
	d := NewDecoder(o, limit)
	for _, c := range chunks {
		d.Feed(c)
		for {
			body, ok, err := d.Next()
			if err != nil {
				return bodies, err
			}
			if !ok {
				break
			}
			bodies = append(bodies, bytes.Clone(body))
		}
	}
	return bodies, d.Finish()
}

// chunksAt splits b at the given ascending offsets.
func chunksAt(b []byte, at ...int) [][]byte {
	var cs [][]byte
	prev := 0
	for _, i := range at {
		cs = append(cs, b[prev:i])
		prev = i
	}
	return append(cs, b[prev:])
}

func byteByByte(b []byte) [][]byte {
	cs := make([][]byte, len(b))
	for i := range b {
		cs[i] = b[i : i+1]
	}
	return cs
}

func randomChunks(r *rand.Rand, b []byte) [][]byte {
	var cs [][]byte
	for len(b) > 0 {
		n := 1 + r.IntN(min(len(b), 1+r.IntN(64)))
		cs = append(cs, b[:n])
		b = b[n:]
	}
	return cs
}

func requireSameOutcome(t *testing.T, want, got outcome, what string) {
	t.Helper()
	require.Equal(t, errorName(want.err), errorName(got.err), "%s: got error, want error", what)
	require.Len(t, got.msgs, len(want.msgs), "%s: got messages, want messages", what)
	for i := range want.msgs {
		requireSameMessage(t, want.msgs[i], got.msgs[i], fmt.Sprintf("%s: message %d", what, i))
	}
}

// TestVectorsSplit: each vector, split at every byte boundary (and at every
// pair of boundaries for short ones), byte by byte and in random chunks,
// decodes exactly as when it is fed whole.
func TestVectorsSplit(t *testing.T) {
	f := loadVectors(t)
	type tc struct {
		name   string
		o      Order
		c      Codec
		limit  int
		frame  []byte
		wanted outcome
	}
	var cases []tc
	for _, v := range append(append([]validVector(nil), f.Valid...), f.DecodeOnly...) {
		o, c := mustOrder(t, v.Order), mustCodec(t, v.Codec)
		fr := mustHex(t, v.FrameHex)
		cases = append(cases, tc{v.Name, o, c, v.limit(), fr, outcome{msgs: []Message{v.Message.message(t)}}})
	}
	for _, v := range f.Invalid {
		o, c := mustOrder(t, v.Order), mustCodec(t, v.Codec)
		cases = append(cases, tc{v.Name, o, c, v.Limit, mustHex(t, v.FrameHex), outcome{err: vectorErrors[v.Error]}})
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			whole := decodeStream(c.o, c.c, c.limit, c.frame)
			if c.wanted.err != nil {
				require.ErrorIs(t, whole.err, c.wanted.err)
				c.wanted.msgs = whole.msgs // e.g. a good frame before a truncated one
			}
			requireSameOutcome(t, c.wanted, whole, "whole")
			for i := 0; i <= len(c.frame); i++ {
				requireSameOutcome(t, whole, decodeStream(c.o, c.c, c.limit, chunksAt(c.frame, i)...), fmt.Sprintf("split at %d", i))
			}
			if len(c.frame) <= 48 {
				for i := 0; i <= len(c.frame); i++ {
					for j := i; j <= len(c.frame); j++ {
						requireSameOutcome(t, whole, decodeStream(c.o, c.c, c.limit, chunksAt(c.frame, i, j)...), fmt.Sprintf("split at %d,%d", i, j))
					}
				}
			}
			requireSameOutcome(t, whole, decodeStream(c.o, c.c, c.limit, byteByByte(c.frame)...), "byte by byte")
			for range 20 {
				requireSameOutcome(t, whole, decodeStream(c.o, c.c, c.limit, randomChunks(r, c.frame)...), "random chunks")
			}
		})
	}
}

// TestDecoderConcatenatedVectors: all valid frames of one byte order in one
// stream, split every way, give every body in order.
func TestDecoderConcatenatedVectors(t *testing.T) {
	f := loadVectors(t)
	r := rand.New(rand.NewPCG(3, 4))
	for _, o := range orders {
		t.Run(o.String(), func(t *testing.T) {
			var stream []byte
			var want [][]byte
			for _, v := range f.Valid {
				if v.Order != o.String() || v.Limit > 0 {
					continue
				}
				fr := mustHex(t, v.FrameHex)
				stream = append(stream, fr...)
				want = append(want, fr[HeaderSize:])
			}
			require.Greater(t, len(want), 40, "frames in the stream")
			check := func(what string, chunks ...[]byte) {
				t.Helper()
				got, err := splitBodies(o, DefaultLimit, chunks...)
				require.NoError(t, err, what)
				require.Equal(t, want, got, "%s: got bodies, want bodies", what)
			}
			check("whole", stream)
			for i := 0; i <= len(stream); i++ {
				check(fmt.Sprintf("split at %d", i), chunksAt(stream, i)...)
			}
			check("byte by byte", byteByByte(stream)...)
			for range 200 {
				check("random chunks", randomChunks(r, stream)...)
			}
		})
	}
}

// TestDecoderMessagesConcatenated decodes a multi-frame stream of one codec
// into messages.
func TestDecoderMessagesConcatenated(t *testing.T) {
	msgs := []Message{
		{URI: URIAuth, Body: []byte("alice")},
		{URI: URIHeartbeat},
		{Seq: 1, URI: "/chat", Body: []byte("one"), Meta: map[string]string{MetaPersist: "1"}},
		{Seq: 2, URI: "/chat", Body: []byte("two")},
		{},
	}
	for _, o := range orders {
		for _, c := range bothCodecs {
			t.Run(o.String()+"-"+c.String(), func(t *testing.T) {
				var stream []byte
				for i := range msgs {
					var err error
					stream, err = AppendFrame(stream, o, c, &msgs[i])
					require.NoError(t, err)
				}
				got := decodeStream(o, c, DefaultLimit, stream)
				requireSameOutcome(t, outcome{msgs: msgs}, got, "whole")
				got = decodeStream(o, c, DefaultLimit, byteByByte(stream)...)
				requireSameOutcome(t, outcome{msgs: msgs}, got, "byte by byte")
			})
		}
	}
}

// TestDecoderZeroCopy: whole frames are returned as slices of the caller's
// bytes; only split frames are copied.
func TestDecoderZeroCopy(t *testing.T) {
	var stream []byte
	for _, u := range []string{"/a", "/b", "/c"} {
		stream, _ = AppendFrame(stream, BigEndian, JSON, &Message{URI: u})
	}
	d := NewDecoder(BigEndian, 0)
	d.Feed(stream)
	inside := func(b []byte) bool {
		p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		s := uintptr(unsafe.Pointer(unsafe.SliceData(stream)))
		return p >= s && p < s+uintptr(len(stream))
	}
	for i := 0; i < 3; i++ {
		body, ok, err := d.Next()
		require.NoError(t, err)
		require.True(t, ok, "frame %d", i)
		require.True(t, inside(body), "frame %d: got a copy, want a slice of the fed bytes", i)
		require.Equal(t, len(body), cap(body), "frame %d: body capacity must end at the body, so appending cannot clobber the next frame", i)
	}
	_, ok, err := d.Next()
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, d.Finish())
}

// TestDecoderFeedBeforeDrain is the regression test for a panic: Feed was
// documented as allowed before the previous input is drained, but with two
// or more whole frames left over the slow path sliced with a negative length.
func TestDecoderFeedBeforeDrain(t *testing.T) {
	var stream []byte
	var want [][]byte
	for i := range 6 {
		m := Message{Seq: int64(i + 1), URI: "/chat", Body: bytes.Repeat([]byte("x"), i*3)}
		before := len(stream)
		stream, _ = AppendFrame(stream, BigEndian, JSON, &m)
		want = append(want, bytes.Clone(stream[before+HeaderSize:]))
	}
	tests := []struct {
		name  string
		split int // feed stream[:split], take one frame, feed the rest
	}{
		{"rest holds several whole frames", len(stream)},
		{"rest holds frames and a partial one", len(stream) - 3},
		{"rest is one partial frame", HeaderSize + len(want[0]) + 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(BigEndian, 0)
			d.Feed(stream[:tt.split])
			body, ok, err := d.Next()
			require.NoError(t, err)
			require.True(t, ok)
			got := [][]byte{bytes.Clone(body)}
			d.Feed(stream[tt.split:]) // without draining the first input
			for {
				body, ok, err := d.Next()
				require.NoError(t, err)
				if !ok {
					break
				}
				got = append(got, bytes.Clone(body))
			}
			require.Equal(t, want, got, "got bodies, want bodies")
			require.NoError(t, d.Finish())
			require.Zero(t, d.Buffered())
		})
	}

	// Random interleavings of Feed and Next.
	r := rand.New(rand.NewPCG(5, 6))
	for range 500 {
		d := NewDecoder(BigEndian, 0)
		var got [][]byte
		rest := stream
		for len(rest) > 0 || d.Buffered() > 0 {
			if len(rest) > 0 && r.IntN(2) == 0 {
				n := 1 + r.IntN(len(rest))
				d.Feed(rest[:n])
				rest = rest[n:]
				continue
			}
			body, ok, err := d.Next()
			require.NoError(t, err)
			if ok {
				got = append(got, bytes.Clone(body))
			} else if len(rest) == 0 {
				break
			}
		}
		require.Equal(t, want, got, "random Feed/Next interleaving")
		require.NoError(t, d.Finish())
	}
}

// TestDecoderHugeLengthAllocatesNothing: a header that declares 4 GiB costs
// nothing beyond the bytes actually received, whatever the limit.
func TestDecoderHugeLengthAllocatesNothing(t *testing.T) {
	for _, o := range orders {
		t.Run(o.String(), func(t *testing.T) {
			hdr := header(o, math.MaxUint32)
			input := append(hdr, bytes.Repeat([]byte{'x'}, 100)...)

			// Over the limit: refused from the header alone.
			allocs := testing.AllocsPerRun(100, func() {
				d := Decoder{order: o, limit: DefaultAuthLimit}
				d.Feed(input)
				if _, _, err := d.Next(); err != ErrFrameTooLarge {
					panic(err)
				}
			})
			require.Zero(t, allocs, "allocations refusing a 4 GiB header")

			// Under the largest limit (4 GiB - 1 on 64-bit platforms, 2 GiB on
			// 32-bit ones): accepted, buffered only as bytes arrive.
			d := NewDecoder(o, math.MaxInt)
			input = append(header(o, uint32(d.Limit())), input[HeaderSize:]...)
			one := []byte{'y'}
			d.Feed(input)
			_, ok, err := d.Next()
			for i := 0; i < 1000 && err == nil && !ok; i++ {
				d.Feed(one)
				_, ok, err = d.Next()
			}
			require.NoError(t, err)
			require.False(t, ok)
			require.Equal(t, HeaderSize+100+1000, d.Buffered())
			// The decoder's own memory, not the process's allocation counters
			// (other goroutines and the race runtime allocate too): what it
			// holds is at most a small multiple of what it received.
			t.Logf("buffer capacity %d for 1104 bytes received under a %d-byte header", cap(d.buf), d.Limit())
			require.LessOrEqual(t, cap(d.buf), 4<<10, "a 4 GiB header must not size the buffer")
			require.ErrorIs(t, d.Finish(), ErrTruncated)
		})
	}
}

// TestDecoderSetLimit: small before auth, larger after.
func TestDecoderSetLimit(t *testing.T) {
	auth := mustEncode(t, BigEndian, JSON, &Message{URI: URIAuth, Body: []byte("alice")})
	big := mustEncode(t, BigEndian, JSON, &Message{URI: "/chat", Body: bytes.Repeat([]byte("b"), DefaultAuthLimit)})
	tests := []struct {
		name    string
		raise   bool // SetLimit(DefaultLimit) after the auth frame
		chunked bool // the big frame arrives in the same Feed as auth
		wantErr error
	}{
		{"big frame before auth is refused", false, false, ErrFrameTooLarge},
		{"big frame after raising", true, false, nil},
		{"big frame in the same read as auth, raised in time", true, true, nil},
		{"big frame in the same read, never raised", false, true, ErrFrameTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(BigEndian, DefaultAuthLimit)
			require.Equal(t, DefaultAuthLimit, d.Limit())
			if tt.chunked {
				d.Feed(append(bytes.Clone(auth), big...))
			} else {
				d.Feed(auth)
			}
			body, ok, err := d.Next()
			require.NoError(t, err)
			require.True(t, ok)
			require.Contains(t, string(body), URIAuth)
			if tt.raise {
				d.SetLimit(DefaultLimit)
			}
			if !tt.chunked {
				d.Feed(big)
			}
			body, ok, err = d.Next()
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.True(t, ok)
			require.Len(t, body, len(big)-HeaderSize)
		})
	}

	limits := []struct{ set, want int }{
		{0, DefaultLimit}, {-1, DefaultLimit}, {1, 1}, {DefaultAuthLimit, DefaultAuthLimit},
		{math.MaxInt32 - HeaderSize, math.MaxInt32 - HeaderSize}, {math.MaxInt, maxDecoderLimit},
	}
	for _, l := range limits {
		d := NewDecoder(BigEndian, l.set)
		require.Equal(t, l.want, d.Limit(), "NewDecoder(%d): got limit, want limit", l.set)
		d.SetLimit(5)
		d.SetLimit(l.set)
		require.Equal(t, l.want, d.Limit(), "SetLimit(%d): got limit, want limit", l.set)
	}
}

// TestDecoderStickyError: after a framing error nothing more comes out.
func TestDecoderStickyError(t *testing.T) {
	d := NewDecoder(BigEndian, 16)
	good := frame(BigEndian, `{"uri":"/a"}`)
	d.Feed(append(append(bytes.Clone(good), header(BigEndian, 17)...), good...))
	_, ok, err := d.Next()
	require.NoError(t, err)
	require.True(t, ok)
	for i := range 3 {
		_, ok, err = d.Next()
		require.ErrorIs(t, err, ErrFrameTooLarge, "Next call %d after the error", i)
		require.False(t, ok)
	}
	d.Feed(good)
	d.SetLimit(DefaultLimit)
	_, ok, err = d.Next()
	require.ErrorIs(t, err, ErrFrameTooLarge, "Feed and SetLimit do not clear the error")
	require.False(t, ok)
	require.ErrorIs(t, d.Err(), ErrFrameTooLarge)
	require.ErrorIs(t, d.Finish(), ErrFrameTooLarge)
	require.Zero(t, d.Buffered(), "a broken decoder holds nothing")
}

// TestDecoderFinish: the end of the stream is clean only between frames.
func TestDecoderFinish(t *testing.T) {
	good := frame(LittleEndian, `{"uri":"/a"}`)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"nothing", nil, nil},
		{"one frame", good, nil},
		{"two frames", append(bytes.Clone(good), good...), nil},
		{"zero-length frame", header(LittleEndian, 0), nil},
		{"one header byte", good[:1], ErrTruncated},
		{"header only", good[:HeaderSize], ErrTruncated},
		{"header and part of the body", good[:HeaderSize+3], ErrTruncated},
		{"frame and a partial one", append(bytes.Clone(good), good[:5]...), ErrTruncated},
		{"over the limit", header(LittleEndian, DefaultLimit+1), ErrFrameTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunks := range [][][]byte{{tt.in}, byteByByte(tt.in)} {
				_, err := splitBodies(LittleEndian, 0, chunks...)
				if tt.want == nil {
					require.NoError(t, err, "%d chunks", len(chunks))
				} else {
					require.ErrorIs(t, err, tt.want, "%d chunks", len(chunks))
				}
			}
		})
	}
}

// TestDecoderReleasesBuffers: after a large split frame, an idle decoder
// holds nothing; small split frames reuse one small buffer.
func TestDecoderReleasesBuffers(t *testing.T) {
	big := mustEncode(t, BigEndian, Protobuf, &Message{URI: "/big", Body: make([]byte, 100_000)})
	d := NewDecoder(BigEndian, 0)
	for _, c := range chunksAt(big, 10, 5000, 60_000) {
		d.Feed(c)
	}
	body, ok, err := d.Next()
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, body, len(big)-HeaderSize)
	require.Zero(t, d.Buffered())
	require.Nil(t, d.buf, "a large split-frame buffer is released once the frame is returned")
	require.Nil(t, d.in)

	small := frame(BigEndian, `{"uri":"/heartbeat"}`)
	d.Feed(small[:3])
	d.Feed(small[3:])
	_, ok, err = d.Next()
	require.NoError(t, err)
	require.True(t, ok)
	require.Zero(t, d.Buffered())
	require.LessOrEqual(t, cap(d.buf), maxKeptBuffer, "small buffer kept for reuse")
}

func mustEncode(t testing.TB, o Order, c Codec, m *Message) []byte {
	t.Helper()
	b, err := EncodeFrame(o, c, m)
	require.NoError(t, err)
	return b
}

// smallFrameStream is n heartbeat-sized JSON frames.
func smallFrameStream(tb testing.TB, o Order, n int) []byte {
	var stream []byte
	for i := range n {
		var err error
		stream, err = AppendFrame(stream, o, JSON, &Message{Seq: int64(i + 1), URI: "/chat", Body: []byte("hello, world")})
		require.NoError(tb, err)
	}
	return stream
}

// TestDecoderSteadyStateAllocs: a reused decoder allocates nothing, whether
// frames arrive whole or split across reads.
func TestDecoderSteadyStateAllocs(t *testing.T) {
	stream := smallFrameStream(t, BigEndian, 100)
	d := NewDecoder(BigEndian, DefaultLimit)
	drain := func(chunks [][]byte) {
		n := 0
		for _, c := range chunks {
			d.Feed(c)
			for {
				_, ok, err := d.Next()
				if err != nil {
					panic(err)
				}
				if !ok {
					break
				}
				n++
			}
		}
		if n != 100 {
			panic(fmt.Sprintf("got %d frames, want 100", n))
		}
	}
	tests := []struct {
		name   string
		chunks [][]byte
	}{
		{"whole", [][]byte{stream}},
		{"7-byte reads", chunksEvery(stream, 7)},
		{"1-byte reads", byteByByte(stream)},
		{"100-byte reads", chunksEvery(stream, 100)},
	}
	for _, tt := range tests {
		drain(tt.chunks) // warm up: the split buffer reaches its size
		allocs := testing.AllocsPerRun(50, func() { drain(tt.chunks) })
		require.Zero(t, allocs, "%s: got allocations per 100 frames, want none", tt.name)
	}
}

func chunksEvery(b []byte, n int) [][]byte {
	var cs [][]byte
	for len(b) > n {
		cs = append(cs, b[:n])
		b = b[n:]
	}
	return append(cs, b)
}

// TestDecoderRetain: after Retain the caller may reuse the bytes it fed,
// whichever path the decoder is on.
func TestDecoderRetain(t *testing.T) {
	var stream []byte
	var want [][]byte
	for i := range 4 {
		m := Message{Seq: int64(i + 1), URI: "/chat", Body: []byte("retain me")}
		before := len(stream)
		stream, _ = AppendFrame(stream, BigEndian, JSON, &m)
		want = append(want, bytes.Clone(stream[before+HeaderSize:]))
	}
	for split := 1; split < len(stream); split++ {
		d := NewDecoder(BigEndian, 0)
		var got [][]byte
		for _, part := range chunksAt(stream, split) {
			in := bytes.Clone(part)
			d.Feed(in)
			body, ok, err := d.Next() // take at most one frame, then stop early
			require.NoError(t, err)
			if ok {
				got = append(got, bytes.Clone(body))
			}
			d.Retain()
			for i := range in {
				in[i] = 0xEE // the caller reuses its read buffer
			}
		}
		for {
			body, ok, err := d.Next()
			require.NoError(t, err)
			if !ok {
				break
			}
			got = append(got, bytes.Clone(body))
		}
		require.Equal(t, want, got, "split at %d: got bodies, want bodies", split)
		require.NoError(t, d.Finish())
	}
}
