package pack

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// benchPush is a typical stored push: seq, URI, a 100-byte body and the
// meta a node adds.
func benchPush() Message {
	return Message{
		Seq:  123456,
		URI:  "/chat/message",
		Body: []byte(`{"from":"bob","text":"see you at the station at eight, the train leaves at 8:15 sharp!"}`),
		Meta: map[string]string{MetaID: "01HF3K7Q8Z", MetaPersist: "1", MetaTime: "1700000000000"},
	}
}

func benchmarkEncode(b *testing.B, c Codec) {
	m := benchPush()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendFrame(buf[:0], BigEndian, c, &m); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkEncodeJSON(b *testing.B)     { benchmarkEncode(b, JSON) }
func BenchmarkEncodeProtobuf(b *testing.B) { benchmarkEncode(b, Protobuf) }

func benchmarkDecode(b *testing.B, c Codec) {
	src := benchPush()
	body := mustEncode(b, BigEndian, c, &src)[HeaderSize:]
	var m Message
	require.NoError(b, c.Decode(body, &m))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Decode(body, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeJSON(b *testing.B)     { benchmarkDecode(b, JSON) }
func BenchmarkDecodeProtobuf(b *testing.B) { benchmarkDecode(b, Protobuf) }

// BenchmarkDecoderNext: the framing layer over a stream of 100 small frames,
// fed whole and in 1400-byte reads (a TCP segment's worth). One op is the
// whole stream.
func BenchmarkDecoderNext(b *testing.B) {
	stream := smallFrameStream(b, BigEndian, 100)
	for _, bc := range []struct {
		name   string
		chunks [][]byte
	}{
		{"whole", [][]byte{stream}},
		{"1400B-reads", chunksEvery(stream, 1400)},
		{"7B-reads", chunksEvery(stream, 7)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d := NewDecoder(BigEndian, DefaultLimit)
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			for b.Loop() {
				for _, c := range bc.chunks {
					d.Feed(c)
					for {
						_, ok, err := d.Next()
						if err != nil {
							b.Fatal(err)
						}
						if !ok {
							break
						}
					}
				}
			}
		})
	}
}

// BenchmarkSharedBroadcast: one message to 1,000 connections, half of them
// JSON and half protobuf. "shared" encodes once per codec; "per-conn" is
// the naive alternative it replaces. One op is the whole broadcast.
func BenchmarkSharedBroadcast(b *testing.B) {
	const conns = 1000
	m := benchPush()
	b.Run("shared", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s := NewShared(BigEndian, m)
			for i := range conns {
				if _, err := s.Frame(Codec(1 + i%2)); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("per-conn", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for i := range conns {
				if _, err := EncodeFrame(BigEndian, Codec(1+i%2), &m); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// TestDecodeAllocs: decoding into a reused Message whose meta map is
// already allocated costs only the message's own fields: at most one
// allocation for the URI, one for the body, one per meta key and value
// (one-byte strings and reserved URIs cost nothing). A heartbeat costs
// nothing at all.
func TestDecodeAllocs(t *testing.T) {
	for _, c := range bothCodecs {
		src := benchPush()
		body := mustEncode(t, BigEndian, c, &src)[HeaderSize:]
		m := Message{Meta: make(map[string]string, 8)}
		require.NoError(t, c.Decode(body, &m))
		allocs := testing.AllocsPerRun(200, func() {
			if err := c.Decode(body, &m); err != nil {
				panic(err)
			}
		})
		want := 2 + 2*len(src.Meta)
		require.LessOrEqual(t, allocs, float64(want), "%s: got %v allocations per decode, want at most %d (uri, body, meta keys and values)", c, allocs, want)

		heartbeat := mustEncode(t, BigEndian, c, &Message{URI: URIHeartbeat})[HeaderSize:]
		allocs = testing.AllocsPerRun(200, func() {
			if err := c.Decode(heartbeat, &m); err != nil {
				panic(err)
			}
		})
		require.Zero(t, allocs, "%s heartbeat: got %v allocations, want none", c, allocs)
	}
}

// TestEncodeAllocs: appending a frame to a buffer with room allocates
// nothing, meta included (up to 8 keys are sorted on the stack).
func TestEncodeAllocs(t *testing.T) {
	buf := make([]byte, 0, 1024)
	for _, c := range bothCodecs {
		for _, m := range []Message{{Seq: 1, URI: "/chat", Body: []byte("hello")}, benchPush()} {
			allocs := testing.AllocsPerRun(200, func() {
				var err error
				if buf, err = AppendFrame(buf[:0], BigEndian, c, &m); err != nil {
					panic(err)
				}
			})
			require.Zero(t, allocs, "%s with %d meta keys: got %v allocations, want none", c, len(m.Meta), allocs)
		}
	}
}
