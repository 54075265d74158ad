package pack_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
)

// A header declaring the largest limit, read while the decoder's buffer
// still holds an earlier frame (its offset > 0), once made the end offset
// off+4+n wrap an int on 32-bit platforms (gomobile's armv7 and 386) and
// slice out of range. Run it with GOARCH=386 too.
func TestDecoderLargestLimitBehindAnotherFrame(t *testing.T) {
	for _, o := range []pack.Order{pack.BigEndian, pack.LittleEndian} {
		d := pack.NewDecoder(o, math.MaxInt) // clamped to the largest limit
		huge := uint32(min(uint64(d.Limit()), math.MaxUint32))
		var in []byte
		in = append(in, header(o, 2)...)
		in = append(in, "{}"...)
		in = append(in, header(o, huge)...)
		d.Feed(in)
		d.Feed([]byte("abc")) // before draining: both are now in the buffer
		body, ok, err := d.Next()
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "{}", string(body))
		body, ok, err = d.Next()
		require.NoError(t, err)
		require.False(t, ok, "a %d-byte frame is not complete after 3 bytes (got %d)", huge, len(body))
		require.Equal(t, pack.HeaderSize+3, d.Buffered())
		require.ErrorIs(t, d.Finish(), pack.ErrTruncated)
	}
}

func header(o pack.Order, n uint32) []byte {
	h := make([]byte, pack.HeaderSize)
	o.PutHeader(h, n)
	return h
}
