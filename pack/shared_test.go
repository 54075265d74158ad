package pack

import (
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestSharedEncodesOnce: many goroutines (run with -race) get the same bytes
// for a codec, encoded once; both codecs can be in use at once.
func TestSharedEncodesOnce(t *testing.T) {
	for _, o := range orders {
		t.Run(o.String(), func(t *testing.T) {
			msg := Message{Seq: 5, URI: "/all", Body: []byte("hello, everyone"), Meta: map[string]string{MetaID: "m-1"}}
			s := NewShared(o, msg)
			const n = 32
			var wg sync.WaitGroup
			frames := make([][2][]byte, n)
			for i := range n {
				wg.Go(func() {
					for j, c := range bothCodecs {
						fr, err := s.Frame(c)
						if err != nil {
							panic(err)
						}
						frames[i][j] = fr
					}
				})
			}
			wg.Wait()
			for j, c := range bothCodecs {
				want := mustEncode(t, o, c, &msg)
				for i := range n {
					require.Equal(t, want, frames[i][j], "goroutine %d %s: got frame, want frame", i, c)
					require.Equal(t, unsafe.SliceData(frames[0][j]), unsafe.SliceData(frames[i][j]),
						"goroutine %d %s: got a different array, want the one shared frame", i, c)
				}
				allocs := testing.AllocsPerRun(100, func() {
					if _, err := s.Frame(c); err != nil {
						panic(err)
					}
				})
				require.Zero(t, allocs, "%s: Frame after the first call encodes nothing", c)
			}
			auto, err := s.Frame(AutoCodec)
			require.NoError(t, err)
			require.Equal(t, unsafe.SliceData(frames[0][0]), unsafe.SliceData(auto), "AutoCodec shares the JSON frame")
			require.Equal(t, msg.URI, s.Message().URI)
		})
	}
}

// TestSharedError: a message one codec cannot carry fails on that codec
// only, every time.
func TestSharedError(t *testing.T) {
	s := NewShared(BigEndian, Message{URI: "/bin", Body: []byte{0xff, 0x00}})
	for range 2 {
		fr, err := s.Frame(JSON)
		require.ErrorIs(t, err, ErrInvalidUTF8)
		require.Nil(t, fr)
	}
	fr, err := s.Frame(Protobuf)
	require.NoError(t, err)
	require.NotEmpty(t, fr)
}
