package server_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// fallbacks records a node's vendor fallbacks: OnUnacked and OnUndelivered.
type fallbacks struct {
	mu      sync.Mutex
	unacked []string // "uid body"
	offline []string
	fired   chan string // every fallback's "kind uid body"
}

func newFallbacks() *fallbacks { return &fallbacks{fired: make(chan string, 64)} }

func (f *fallbacks) config(cfg server.Config) server.Config {
	cfg.OnUnacked = func(uid string, m *pack.Message) {
		f.mu.Lock()
		f.unacked = append(f.unacked, uid+" "+string(m.Body))
		f.mu.Unlock()
		f.fired <- "unacked " + uid + " " + string(m.Body)
	}
	cfg.OnUndelivered = func(uid string, m *pack.Message, _ bool) {
		f.mu.Lock()
		f.offline = append(f.offline, uid+" "+string(m.Body))
		f.mu.Unlock()
		f.fired <- "offline " + uid + " " + string(m.Body)
	}
	return cfg
}

// next waits for the next fallback.
func (f *fallbacks) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-f.fired:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no fallback fired")
		return ""
	}
}

// sentinel pushes to a user who receives but never acks, with a deadline
// after every earlier one, and waits for its fallback: every earlier
// deadline was checked by then.
func (f *fallbacks) sentinel(t *testing.T, n *node, after time.Duration) {
	t.Helper()
	p := app(t, n.Addr, "sentinel", map[string]string{pack.MetaAcks: "1"})
	_, err := n.Push(ctx(t), server.User("sentinel"), pack.Message{URI: "/s", Body: []byte("sentinel")}, server.Persist(0), server.AckWithin(after))
	require.NoError(t, err)
	p.recv()
	require.Equal(t, "unacked sentinel sentinel", f.next(t), "nothing fired before the sentinel")
}

func acking(dev string) map[string]string {
	return map[string]string{pack.MetaAcks: "1", pack.MetaDevice: dev}
}

func TestUnackedPushFiresTheFallbackOnce(t *testing.T) {
	f := newFallbacks()
	n := startNode(t, f.config(server.Config{}))
	frozen := app(t, n.Addr, "alice", acking("phone"))
	out, err := n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/x", Body: []byte("wake up")}, server.Persist(0), server.AckWithin(100*time.Millisecond))
	require.NoError(t, err)
	require.Equal(t, 1, out.Delivered, "written to a connection that looks alive")
	require.Equal(t, int64(1), frozen.recv().Seq, "received, never acked: the OS froze the app")
	require.Equal(t, "unacked alice wake up", f.next(t))
	eventually(t, func() bool { return n.AckDeadlines() == 0 }, "the deadline is gone")
	f.sentinel(t, n, 300*time.Millisecond) // and no second fallback for alice's push
	require.Equal(t, 2.0, metricValue(t, n, "plex_fallbacks_total", "ack_timeout"), "alice's and the sentinel's")

	// An ack that arrives later cancels nothing already sent.
	frozen.send(pack.Message{URI: pack.URIAck, Seq: 1})
}

func TestAckedPushFiresNoFallback(t *testing.T) {
	f := newFallbacks()
	n := startNode(t, f.config(server.Config{}))
	// alice acks on one device; the other device received it but never acks.
	phone := app(t, n.Addr, "alice", acking("phone"))
	tablet := app(t, n.Addr, "alice", acking("tablet"))
	_, err := n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/x", Body: []byte("read")}, server.Persist(0), server.AckWithin(100*time.Millisecond))
	require.NoError(t, err)
	require.Equal(t, int64(1), phone.recv().Seq)
	require.Equal(t, int64(1), tablet.recv().Seq)
	phone.send(pack.Message{URI: pack.URIAck, Seq: 1})
	f.sentinel(t, n, 400*time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Equal(t, []string{"sentinel sentinel"}, f.unacked, "one device acked: no fallback")
	require.Empty(t, f.offline)
}

func TestAppsWithoutAcksCountAsAcked(t *testing.T) {
	// An original app (no acks=1) gets each stored push once: its write is
	// its ack, so its pushes never fire an ack timeout.
	f := newFallbacks()
	n := startNode(t, f.config(server.Config{AckTimeout: 100 * time.Millisecond}))
	old := app(t, n.Addr, "alice", nil)
	_, err := n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/x", Body: []byte("old app")}, server.Persist(0))
	require.NoError(t, err)
	old.recv()
	f.sentinel(t, n, 400*time.Millisecond)
	require.Equal(t, []string{"sentinel sentinel"}, f.unacked)
}

func TestOfflineUserFiresOnlyTheOfflineFallback(t *testing.T) {
	f := newFallbacks()
	n := startNode(t, f.config(server.Config{AckTimeout: 100 * time.Millisecond})) // the default app's default
	out, err := n.Push(ctx(t), server.User("bob"), pack.Message{URI: "/x", Body: []byte("asleep")}, server.Persist(0))
	require.NoError(t, err)
	require.Equal(t, 1, out.Offline)
	require.Equal(t, "offline bob asleep", f.next(t))
	f.sentinel(t, n, 400*time.Millisecond)
	require.Equal(t, []string{"sentinel sentinel"}, f.unacked, "bob's fallback went out when he was offline; not again")
}

func TestDevicePushAckedByAnotherDeviceStillFires(t *testing.T) {
	f := newFallbacks()
	n := startNode(t, f.config(server.Config{}))
	phone := app(t, n.Addr, "alice", acking("phone"))
	laptop := app(t, n.Addr, "alice", acking("laptop"))
	_, err := n.Push(ctx(t), server.Device("alice", "phone"), pack.Message{URI: "/x", Body: []byte("phone only")}, server.Persist(0), server.AckWithin(100*time.Millisecond))
	require.NoError(t, err)
	require.Equal(t, int64(1), phone.recv().Seq)
	// the laptop acks a later push to every device: its cursor passes seq 1,
	// which was never its push
	_, err = n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/x", Body: []byte("all")}, server.Persist(0))
	require.NoError(t, err)
	require.Equal(t, int64(2), laptop.recv().Seq)
	laptop.send(pack.Message{URI: pack.URIAck, Seq: 2})
	require.Equal(t, "unacked alice phone only", f.next(t), "the phone never acked its push")

	// The laptop's own push, acked by the laptop: none.
	_, err = n.Push(ctx(t), server.Device("alice", "laptop"), pack.Message{URI: "/x", Body: []byte("laptop only")}, server.Persist(0), server.AckWithin(100*time.Millisecond))
	require.NoError(t, err)
	require.Equal(t, int64(3), laptop.recv().Seq)
	laptop.send(pack.Message{URI: pack.URIAck, Seq: 3})
	f.sentinel(t, n, 400*time.Millisecond)
}

func TestAckTimeoutRefusedWhereItCannotApply(t *testing.T) {
	f := newFallbacks()
	n := startNode(t, f.config(server.Config{PersistTTL: time.Hour}))
	for i, tc := range []struct {
		opts []server.PushOption
	}{
		{[]server.PushOption{server.AckWithin(time.Second)}},                            // transient
		{[]server.PushOption{server.Persist(time.Minute), server.AckWithin(time.Hour)}}, // longer than its ttl
		{[]server.PushOption{server.Persist(0), server.AckWithin(2 * time.Hour)}},       // longer than the node's default ttl
		{[]server.PushOption{server.Persist(0), server.AckWithin(-time.Second)}},
	} {
		_, err := n.Push(ctx(t), server.User("a"), pack.Message{URI: "/x"}, tc.opts...)
		require.ErrorIs(t, err, server.ErrBadAckTimeout)
		require.Equal(t, float64(i+1), metricValue(t, n, "plex_pushes_total", "rejected"), "each refusal is counted")
	}
	_, _, inner := startInnerNode(t, f.config(server.Config{Authenticator: auth.None{}, InnerSecret: secret}))
	p := pusher(t, inner)
	for _, req := range []server.PushRequest{
		{UID: "a", URI: "/x", AckTimeoutMS: 1000},                         // transient
		{UID: "a", URI: "/x", Persist: true, AckTimeoutMS: -1},            // negative
		{UID: "a", URI: "/x", Persist: true, TTLMS: 10, AckTimeoutMS: 20}, // over its ttl
	} {
		_, cerr := p.push(1, req)
		require.NotNil(t, cerr, "%+v", req)
		require.Equal(t, pack.CodeBadRequest, cerr.Code, "%+v", req)
	}
}

// A /message copy is a persistent push to its recipient: with the app's
// ack timeout, one its recipient does not ack fires OnUnacked, a room
// message for each member who does not ack, never for the sender's own
// copy.
func TestMessagesGetTheAppsAckTimeout(t *testing.T) {
	f := newFallbacks()
	n := startNode(t, f.config(server.Config{AckTimeout: 100 * time.Millisecond, MessagePolicy: func(string, string) bool { return true }}))
	alice := app(t, n.Addr, "alice", acking("phone"))
	aliceLaptop := app(t, n.Addr, "alice", acking("laptop")) // receives the room copy, never acks
	bob := app(t, n.Addr, "bob", acking("phone"))            // never acks

	alice.send(pack.Message{Seq: 1, URI: pack.URIMessage, Body: []byte(`{"to":"bob","body":"hi bob"}`)})
	require.Equal(t, pack.URIReply, alice.recvSkipHeartbeat().URI)
	require.Equal(t, "hi bob", string(bob.recv().Body))
	require.Equal(t, "unacked bob hi bob", f.next(t))

	require.NoError(t, n.Join(server.Room("team"), "alice"))
	require.NoError(t, n.Join(server.Room("team"), "bob"))
	require.Equal(t, pack.URIReply, alice.roomMessage(2, "team", "hi team").URI)
	require.Equal(t, "hi team", string(bob.recv().Body))
	require.Equal(t, "hi team", string(aliceLaptop.recv().Body))
	require.Equal(t, "unacked bob hi team", f.next(t))
	f.sentinel(t, n, 400*time.Millisecond) // and nothing for alice's own copy
}
