package pack

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAppendAuthInfoMatchesEncodingJSON: the hand-written encoder writes
// exactly what encoding/json writes, for every field set or empty.
func TestAppendAuthInfoMatchesEncodingJSON(t *testing.T) {
	cases := []AuthInfo{
		{},
		{Conn: "1", Node: "n"},
		{UID: "alice", Conn: "c-1", Node: "n-1", HeartbeatMS: 30000, TimeoutMS: 75000, MaxFrame: 1 << 20, Acks: true},
		{UID: `q"uote\<&>` + "\x01\u2028é", App: "shop", Conn: "7", Node: "node-ab", HeartbeatMS: 1, TimeoutMS: 2, MaxFrame: 3,
			BackgroundHeartbeatMS: 300000, BackgroundTimeoutMS: 750000},
		{App: "a", Conn: "", Node: "", BackgroundTimeoutMS: 5},
		{HeartbeatMS: -1, TimeoutMS: -2, MaxFrame: -3},
		{Conn: "1", Node: "n", Acks: true, Drain: true},
		{Drain: true},
	}
	for _, a := range cases {
		want, err := json.Marshal(a)
		require.NoError(t, err)
		got, err := AppendAuthInfo(nil, &a)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	}
}

func TestAppendAuthInfoInvalidUTF8(t *testing.T) {
	_, err := AppendAuthInfo(nil, &AuthInfo{UID: "\xff"})
	require.ErrorIs(t, err, ErrInvalidUTF8)
}

func TestAppendAuthInfoAllocations(t *testing.T) {
	a := AuthInfo{UID: "alice", Conn: "12345", Node: "node-0123456789ab", HeartbeatMS: 30000, TimeoutMS: 75000, MaxFrame: 1 << 20}
	buf := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = AppendAuthInfo(buf[:0], &a)
	})
	require.Zero(t, allocs)
}
