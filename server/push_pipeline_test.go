package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// userGatedStore is a Store that does "I/O" (answers on another
// goroutine) and holds the appends of chosen users until released.
type userGatedStore struct {
	*gatedStore
	mu   sync.Mutex
	held map[string]chan struct{}
}

func newUserGatedStore() *userGatedStore {
	return &userGatedStore{gatedStore: newGatedStore(), held: map[string]chan struct{}{}}
}

func (u *userGatedStore) holdUser(uid string) {
	u.mu.Lock()
	u.held[uid] = make(chan struct{})
	u.mu.Unlock()
}

func (u *userGatedStore) releaseUser(uid string) {
	u.mu.Lock()
	close(u.held[uid])
	delete(u.held, uid)
	u.mu.Unlock()
}

func (u *userGatedStore) Append(ctx context.Context, uid string, m *pack.Message, ttl time.Duration, done func(server.Appended)) {
	u.mu.Lock()
	gate := u.held[uid]
	u.mu.Unlock()
	select {
	case u.entered <- "append " + uid:
	default:
	}
	go func() {
		if gate != nil {
			<-gate
		}
		u.inner.Append(ctx, uid, m, ttl, done)
	}()
}

func pushReq(t *testing.T, seq int64, req server.PushRequest) pack.Message {
	body, err := json.Marshal(req)
	require.NoError(t, err)
	return pack.Message{Seq: seq, URI: pack.URIPush, Body: body}
}

// TestPipelinedPushes: with a store that does I/O, one push client's
// persistent pushes do not wait for each other: a push to bob is answered
// while alice's append is still in flight; alice's pushes, transient ones
// included, reach her in the order they were accepted, each answered once
// its turn came.
func TestPipelinedPushes(t *testing.T) {
	st := newUserGatedStore()
	n := startNode(t, server.Config{Store: st})
	n.SetTransientWait(time.Minute) // order, not overtaking, is under test
	alice := app(t, n.Addr, "alice", nil)
	bob := app(t, n.Addr, "bob", nil)
	p := pusher(t, n.Addr)

	st.holdUser("alice")
	p.send(pushReq(t, 1, server.PushRequest{UID: "alice", URI: "/p", Body: "a1", Persist: true}))
	p.send(pushReq(t, 2, server.PushRequest{UID: "alice", URI: "/p", Body: "a2"})) // transient, behind a1
	p.send(pushReq(t, 3, server.PushRequest{UID: "alice", URI: "/p", Body: "a3", Persist: true}))
	p.send(pushReq(t, 4, server.PushRequest{UID: "bob", URI: "/p", Body: "b1", Persist: true}))

	r := p.recv()
	require.Equal(t, int64(4), r.Seq, "bob's push is answered while alice's append is held")
	require.Equal(t, pack.URIReply, r.URI)
	require.Equal(t, "b1", string(bob.recvSkipHeartbeat().Body))
	_, err := alice.tryRecv(100 * time.Millisecond)
	require.Error(t, err, "alice gets nothing before a1 is stored")

	st.releaseUser("alice")
	var seqs []int64
	for range 3 {
		seqs = append(seqs, p.recv().Seq)
	}
	require.Equal(t, []int64{1, 2, 3}, seqs, "alice's pushes answered in order")
	var got []string
	for range 3 {
		got = append(got, string(alice.recvSkipHeartbeat().Body))
	}
	require.Equal(t, []string{"a1", "a2", "a3"}, got)
}

// TestLoginWaitsForPipe: a login while the user's persistent push is in
// flight gets it once (by replay, after it is stored), not twice and not
// never.
func TestLoginWaitsForPipe(t *testing.T) {
	st := newUserGatedStore()
	n := startNode(t, server.Config{Store: st})
	p := pusher(t, n.Addr)
	st.holdUser("alice")
	p.send(pushReq(t, 1, server.PushRequest{UID: "alice", URI: "/p", Body: "a1", Persist: true}))
	st.gatedStore.waitEntered(t, "append alice")

	c := dial(t, n.Addr)
	c.send(pack.Message{URI: pack.URIAuth, Body: []byte("alice"), Meta: map[string]string{pack.MetaAcks: "1"}})
	_, err := c.tryRecv(100 * time.Millisecond)
	require.Error(t, err, "the login waits for the push ahead of it")
	st.releaseUser("alice")
	require.Equal(t, pack.URIAuthSuccess, c.recv().URI)
	m := c.recvSkipHeartbeat()
	require.Equal(t, "a1", string(m.Body))
	require.Equal(t, pack.URIReply, p.recv().URI)
	_, err = c.tryRecv(200 * time.Millisecond)
	require.Error(t, err, "delivered once")
}

// TestShutdownAnswersPipelinedPushes: Shutdown answers a push client's
// pipelined pushes before its /disconnect 3000 (drain, protocol §13.4).
func TestShutdownAnswersPipelinedPushes(t *testing.T) {
	st := newUserGatedStore()
	n := startNode(t, server.Config{Store: st})
	p := pusher(t, n.Addr)
	st.holdUser("alice")
	p.send(pushReq(t, 1, server.PushRequest{UID: "alice", URI: "/p", Body: "a1", Persist: true}))
	st.gatedStore.waitEntered(t, "append alice")
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- n.Shutdown(ctx)
	}()
	time.Sleep(100 * time.Millisecond)
	st.releaseUser("alice")
	r := p.recv()
	require.Equal(t, int64(1), r.Seq)
	require.Equal(t, pack.URIReply, r.URI, "answered before the disconnect")
	require.Equal(t, pack.URIDisconnect, p.recv().URI)
	require.NoError(t, <-done)
}

// TestTransientOvertakesStuckPersistent: a transient push behind a user's
// persistent push that the store does not answer is written after a short
// wait (250ms), not after the store's timeout; the persistent push comes
// when it is stored.
func TestTransientOvertakesStuckPersistent(t *testing.T) {
	st := newUserGatedStore()
	n := startNode(t, server.Config{Store: st})
	alice := app(t, n.Addr, "alice", nil)
	p := pusher(t, n.Addr)
	st.holdUser("alice")
	p.send(pushReq(t, 1, server.PushRequest{UID: "alice", URI: "/p", Body: "stuck", Persist: true}))
	st.gatedStore.waitEntered(t, "append alice")
	start := time.Now()
	p.send(pushReq(t, 2, server.PushRequest{UID: "alice", URI: "/p", Body: "live"}))
	r := p.recv()
	require.Equal(t, int64(2), r.Seq)
	require.Equal(t, "live", string(alice.recvSkipHeartbeat().Body))
	require.Less(t, time.Since(start), 5*time.Second)
	st.releaseUser("alice")
	require.Equal(t, int64(1), p.recv().Seq)
	require.Equal(t, "stuck", string(alice.recvSkipHeartbeat().Body))
}

// A store that cannot answer fills the node's persistent-push budget; one
// push client carrying both kinds must not stall behind it: its pushes over
// the budget are answered 3005 at once (nothing stored, retry later), and
// its transient pushes keep being delivered while the store is stuck.
func TestTransientFlowWhileStoreBudgetIsFull(t *testing.T) {
	st := newUserGatedStore()
	n := startNode(t, server.Config{Store: st, MaxPersistInFlight: 4})
	bob := app(t, n.Addr, "bob", nil)
	p := pusher(t, n.Addr)
	for _, u := range []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7"} {
		st.holdUser(u)
	}
	for i, u := range []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7"} { // 4 fit, 4 do not
		p.send(pushReq(t, int64(i+1), server.PushRequest{UID: u, URI: "/p", Body: "x", Persist: true}))
	}
	busy := 0
	for range 4 { // the ones over the budget are answered; the held ones are not
		m := p.recv()
		require.Equal(t, pack.URIError, m.URI, "%+v", m)
		require.Equal(t, pack.CodeInternal, pack.ErrorOf(&m).Code, "nothing stored: 3005")
		busy++
	}
	for i := range 20 { // transient pushes flow while the store is stuck
		p.send(pushReq(t, int64(100+i), server.PushRequest{UID: "bob", URI: "/t", Body: fmt.Sprint(i)}))
		m := p.recv()
		require.Equal(t, int64(100+i), m.Seq)
		require.Equal(t, pack.URIReply, m.URI)
		require.Equal(t, fmt.Sprint(i), string(bob.recvSkipHeartbeat().Body))
	}
	for _, u := range []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7"} {
		st.releaseUser(u)
	}
	for range 4 { // the held ones are answered once stored
		m := p.recv()
		require.Equal(t, pack.URIReply, m.URI, "%+v", m)
	}
	require.Equal(t, 4, busy)
}
