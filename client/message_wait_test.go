package client_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// A Message made while the Conn is not online (its node is down) waits
// through the reconnect and is sent once the Conn is online again: the
// caller gets the node's result, the recipient the message
// (docs/protocol.md §13.6, "Requests while not online").
func TestConnMessageWaitsThroughAReconnect(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{MessagePolicy: allowMessages})
	alice := dialApp(t, n.Addr, "alice", client.ConnConfig{})
	n.Stop()
	alice.waitState(t, client.StateReconnecting)

	type result struct {
		res client.MessageResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := alice.Message(ctxT(t), "bob", []byte("sent while away"))
		done <- result{res, err}
	}()
	select {
	case r := <-done: // no node to answer: it cannot have succeeded
		t.Fatalf("Message returned while the node was down: %+v", r)
	default:
	}
	n.Restart()
	r := recvT(t, done, "Message's return")
	require.NoError(t, r.err)
	require.NotEmpty(t, r.res.ID)
	require.Positive(t, r.res.Seq)
	require.Equal(t, client.StateOnline, alice.State())

	bob := dialApp(t, n.Addr, "bob", client.ConnConfig{})
	m := bob.recv(t)
	require.Equal(t, pack.URIMessage, m.URI)
	require.Equal(t, "sent while away", string(m.Body))
	require.Equal(t, r.res.Seq, m.Seq)
	require.Equal(t, "alice", m.Get(pack.MetaFrom))
}
