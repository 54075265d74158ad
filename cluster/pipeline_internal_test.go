package cluster

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPubAckParse: the hand-read common answer and everything else agree
// with encoding/json.
func TestPubAckParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		ok   bool
		seq  uint64
		dup  bool
		code int
	}{
		{`{"stream":"PLEX_MSGS","seq":1764751203000123}`, true, 1764751203000123, false, 0},
		{`{"stream":"PLEX_MSGS","seq":7,"duplicate":true}`, true, 7, true, 0},
		{`{"stream":"PLEX_MSGS","domain":"hub","seq":9}`, true, 9, false, 0},
		{`{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 5"}}`, true, 0, false, 10071},
		{`{"stream":"PLEX_MSGS","seq":}`, false, 0, false, 0},
		{`{"stream":"PLEX_MSGS","seq":99999999999999999999}`, false, 0, false, 0},
		{`not json`, false, 0, false, 0},
	} {
		var a pubAck
		ok := a.parse([]byte(c.in))
		require.Equal(t, c.ok, ok, c.in)
		if !ok {
			continue
		}
		require.Equal(t, c.seq, a.Seq, c.in)
		require.Equal(t, c.dup, a.Duplicate, c.in)
		if c.code != 0 {
			require.NotNil(t, a.Error, c.in)
			require.EqualValues(t, c.code, a.Error.ErrorCode, c.in)
		}
	}
}
