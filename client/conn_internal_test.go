package client

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
)

// persistent returns a persistent push with seq.
func persistent(seq int64) *pack.Message {
	return &pack.Message{Seq: seq, URI: "/x", Meta: map[string]string{pack.MetaPersist: "1"}}
}

// When a dying link's reader cannot queue a message (the dispatcher is
// full), it must stop: queueing a later message of the same link would
// advance lastSeq past the one that was not queued, and the resume after
// the reconnect would skip it (a gap the app never sees again).
func TestReaderStopsWhenMessageNotQueued(t *testing.T) {
	c, err := NewConn(ConnConfig{Addrs: []string{"127.0.0.1:1"}})
	require.NoError(t, err)
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	l := newLink(a, nil, c.wire, sessionInfo{}, &counters{})

	for i := range maxQueuedMessages { // the dispatcher is not running: fill it
		require.NoError(t, c.onFrame(l, persistent(int64(i+1))))
	}
	last := c.lastSeq.Load()
	require.Equal(t, int64(maxQueuedMessages), last)

	l.kill(ErrClosed)
	require.ErrorIs(t, c.onFrame(l, persistent(last+1)), errNotQueued, "a message that was not queued stops the reader")
	require.Equal(t, last, c.lastSeq.Load(), "resume stays before the message that was not queued")

	// Duplicates are still dropped without queueing.
	require.NoError(t, c.onFrame(l, persistent(last)))
}

func TestParseCanonicalOutcome(t *testing.T) {
	for _, o := range []pack.Outcome{{}, {Delivered: 1}, {Delivered: 12, Stored: 3, Offline: 45, Seq: 9007199254740993}} {
		b := pack.AppendOutcome(nil, &o)
		got, ok := parseCanonicalOutcome(b)
		require.True(t, ok, "%s", b)
		require.Equal(t, Result(o), got, "%s", b)
	}
	for _, b := range []string{``, `{}`, `{"delivered":1}`, `{"delivered":1,"stored":0,"offline":0,"seq":}`,
		`{"delivered":1,"stored":0,"offline":0} `, `{"delivered": 1,"stored":0,"offline":0}`,
		`{"delivered":-1,"stored":0,"offline":0}`, `{"delivered":1,"stored":0,"offline":0,"seq":1,"x":2}`,
		`{"delivered":99999999999999999999,"stored":0,"offline":0}`} {
		_, ok := parseCanonicalOutcome([]byte(b))
		require.False(t, ok, "%s must go to encoding/json", b)
	}
}
