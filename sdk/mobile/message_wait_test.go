package plexmobile_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	plexmobile "github.com/plexpush/plex/sdk/mobile"
	"github.com/plexpush/plex/server"
)

// A Message made while the Client is reconnecting (its node is down)
// waits, within SendTimeoutMs, and is sent once the Client is online again
// (docs/protocol.md §13.6, "Requests while not online").
func TestMessageWaitsThroughAReconnect(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{MessagePolicy: allowMessages})
	alice, ar := online(t, n, n.Addr, "alice", "phone")
	n.Stop()
	ar.waitState(t, plexmobile.StateReconnecting)

	type result struct {
		res *plexmobile.MessageResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := alice.Message("bob", []byte("sent while away"), "")
		done <- result{res, err}
	}()
	select {
	case r := <-done: // no node to answer: it cannot have succeeded
		t.Fatalf("Message returned while the node was down: %+v", r)
	default:
	}
	n.Restart()
	r := <-done // bounded by config's SendTimeoutMs
	require.NoError(t, r.err)
	require.Positive(t, r.res.Seq)
	require.EqualValues(t, 1, r.res.Stored)

	_, br := online(t, n, n.Addr, "bob", "b")
	m, meta := br.nextMessage(t)
	require.Equal(t, msg{"/message", "sent while away", r.res.Seq}, m)
	require.Equal(t, "alice", meta.Get("from"))
}
