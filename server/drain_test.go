package server_test

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// TestEveryDisconnectAnswersWhatItExecuted: protocol §13.4 holds for every
// /disconnect the node sends, not only at shutdown: a push client's
// pipelined push whose store write is in flight is answered before the
// /disconnect of a bad frame (3007) or a heartbeat timeout (3001), and
// nothing sent after the close began is executed.
func TestEveryDisconnectAnswersWhatItExecuted(t *testing.T) {
	t.Run("bad frame", func(t *testing.T) {
		n, p, release := heldPush(t, server.Config{})
		bob := app(t, n.Addr, "bob", nil)
		bad := binary.BigEndian.AppendUint32(nil, 4)
		_, err := p.c.Write(append(bad, "{bad"...))
		require.NoError(t, err)
		time.Sleep(50 * time.Millisecond) // the node read the bad frame
		p.send(pushReq(t, 2, server.PushRequest{UID: "bob", URI: "/p", Body: "after"}))
		_, err = p.tryRecv(200 * time.Millisecond)
		require.Error(t, err, "no /disconnect while the push it executed is unanswered")

		release()
		r := p.recv()
		require.Equal(t, int64(1), r.Seq)
		require.Equal(t, pack.URIReply, r.URI, "answered before the disconnect: %+v", r)
		p.expectClosed(pack.URIDisconnect, pack.CodeBadFrame)
		_, err = bob.tryRecv(200 * time.Millisecond)
		require.Error(t, err, "a push sent after the bad frame is not executed")
	})
	t.Run("heartbeat timeout", func(t *testing.T) {
		_, p, release := heldPush(t, server.Config{HeartbeatInterval: 100 * time.Millisecond, HeartbeatTimeout: 500 * time.Millisecond})
		time.Sleep(time.Second) // past the heartbeat timeout: the close began
		release()
		r := p.recvSkipHeartbeat()
		require.Equal(t, int64(1), r.Seq)
		require.Equal(t, pack.URIReply, r.URI, "answered before the disconnect: %+v", r)
		p.expectClosed(pack.URIDisconnect, pack.CodeHeartbeatTimeout)
	})
}

// heldPush starts a node (cfg with a store that holds alice's appends) and
// a push client whose persistent push to alice (seq 1) is in flight;
// release lets the store answer it. A failed check never leaves the
// node's shutdown waiting on the store.
func heldPush(t *testing.T, cfg server.Config) (n *node, p *peer, release func()) {
	t.Helper()
	st := newUserGatedStore()
	cfg.Store = st
	n = startNode(t, cfg)
	p = pusher(t, n.Addr)
	st.holdUser("alice")
	var once sync.Once
	release = func() { once.Do(func() { st.releaseUser("alice") }) }
	t.Cleanup(release)
	p.send(pushReq(t, 1, server.PushRequest{UID: "alice", URI: "/p", Body: "a1", Persist: true}))
	st.gatedStore.waitEntered(t, "append alice")
	return n, p, release
}
