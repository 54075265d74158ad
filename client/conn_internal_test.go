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
