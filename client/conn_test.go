package client_test

import (
	"context"
	"net"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
	"github.com/plexpush/plex/server"
)

// State callbacks arrive in order: connecting, online, reconnecting (with
// the cause and the backoff), connecting, online again, closed
// (docs/protocol.md §13.6: the same sequence in every client).
func TestConnStates(t *testing.T) {
	leakCheck(t)
	a1 := startNode(t, server.Config{})
	a2 := startNode(t, server.Config{})
	a := newApp(t, client.ConnConfig{Addrs: []string{a1.Addr, a2.Addr}, Token: "alice"})
	require.Equal(t, client.StateIdle, a.State())
	require.NoError(t, a.Connect(ctxT(t)))
	require.Equal(t, client.StateOnline, a.State())
	require.Equal(t, stateEvent{client.StateConnecting, nil}, a.state(t))
	require.Equal(t, stateEvent{client.StateOnline, nil}, a.state(t))

	a1.Stop() // /disconnect 3000: reconnect, to the next address
	e := a.state(t)
	require.Equal(t, client.StateReconnecting, e.s)
	var re *client.RetryError
	require.ErrorAs(t, e.err, &re)
	require.ErrorIs(t, e.err, pack.CodeShutdown, "got %v", e.err)
	require.Positive(t, re.Delay)
	require.Equal(t, stateEvent{client.StateConnecting, nil}, a.state(t), "the attempt after the backoff wait")
	require.Equal(t, stateEvent{client.StateOnline, nil}, a.state(t))

	require.NoError(t, a.Close())
	require.Equal(t, stateEvent{client.StateClosed, nil}, a.state(t))
	require.Equal(t, client.StateClosed, a.State())
	require.NoError(t, a.Err())
	require.ErrorIs(t, a.Connect(ctxT(t)), client.ErrClosed)
	select {
	case e := <-a.states:
		t.Fatalf("state after closed: %v", e)
	default:
	}
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// Refused credentials are terminal: no reconnect, state Closed with ErrAuth.
func TestConnAuthFailedIsTerminal(t *testing.T) {
	leakCheck(t)
	srv, err := server.New(server.Config{Authenticator: authNone(), Logger: plog.Test(t)})
	require.NoError(t, err)
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := &countingListener{Listener: inner}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		require.NoError(t, srv.Shutdown(ctxT(t)))
		recvT(t, served, "Serve's return")
	}()

	a := newApp(t, client.ConnConfig{Addrs: []string{inner.Addr().String()}, Token: "not a valid uid!"})
	err = a.Connect(ctxT(t))
	require.ErrorIs(t, err, client.ErrAuth, "got %v", err)
	require.ErrorIs(t, err, pack.CodeAuthFailed, "got %v", err)
	require.Equal(t, stateEvent{client.StateConnecting, nil}, a.state(t))
	e := a.state(t)
	require.Equal(t, client.StateClosed, e.s)
	require.ErrorIs(t, e.err, client.ErrAuth)
	recvT(t, a.Done(), "Conn stop") // every goroutine exited: nothing left to reconnect
	require.Equal(t, int64(1), ln.n.Load(), "one attempt, no reconnect")

	// Dial reports the same and returns no Conn.
	c, err := client.Dial(ctxT(t), client.ConnConfig{Addrs: []string{inner.Addr().String()}, Token: ""})
	require.ErrorIs(t, err, pack.CodeAuthFailed)
	require.Nil(t, c)
}

// An idle Conn keeps its connection with heartbeats at the interval the
// node announced: the node would otherwise close it after its timeout.
func TestConnHeartbeatKeepsIdleConnection(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{HeartbeatInterval: 50 * time.Millisecond, HeartbeatTimeout: time.Second})
	a := dialApp(t, n.Addr, "alice", client.ConnConfig{})
	time.Sleep(2500 * time.Millisecond) // 2.5 node timeouts, 50 heartbeats
	require.Equal(t, client.StateOnline, a.State())
	require.Equal(t, stateEvent{client.StateConnecting, nil}, a.state(t))
	require.Equal(t, stateEvent{client.StateOnline, nil}, a.state(t))
	select {
	case e := <-a.states:
		t.Fatalf("idle connection changed state: %v %v", e.s, e.err)
	default:
	}
	res, err := pusher(t, client.Config{Addrs: []string{n.Addr}}).Send(ctxT(t), "alice", "/x", []byte("still here"))
	require.NoError(t, err)
	require.Equal(t, 1, res.Delivered)
}

// A node that stops answering (not even heartbeat echoes) is detected by
// the timeout it announced, and the Conn reconnects.
func TestConnDetectsDeadNode(t *testing.T) {
	leakCheck(t)
	addr, accepts := fakeNode(t, `{"uid":"alice","heartbeat_ms":20,"timeout_ms":200}`)
	a := newApp(t, client.ConnConfig{Addrs: []string{addr}, Token: "alice"})
	require.NoError(t, a.Connect(ctxT(t)))
	e := a.waitState(t, client.StateReconnecting)
	require.ErrorContains(t, e.err, "heartbeat timeout")
	require.Equal(t, client.StateOnline, a.waitState(t, client.StateOnline).s)
	require.GreaterOrEqual(t, accepts.Load(), int64(2))
}

// Pushes sent while the app is offline wait in the store and arrive, in
// order, on its next connect.
func TestConnReceivesOfflinePushes(t *testing.T) {
	leakCheck(t)
	store := server.NewMemoryStore(server.MemoryStoreConfig{})
	n := startNode(t, server.Config{Store: store})
	pc := pusher(t, client.Config{Addrs: []string{n.Addr}})
	ctx := ctxT(t)
	for i := 1; i <= 5; i++ {
		res, err := pc.Send(ctx, "alice", "/chat", []byte{'0' + byte(i)}, client.Persist(time.Hour))
		require.NoError(t, err)
		require.Equal(t, client.Result{Stored: 1, Offline: 1, Seq: int64(i)}, res)
	}
	_, err := pc.Send(ctx, "alice", "/chat", []byte("transient"))
	require.NoError(t, err)

	a := dialApp(t, n.Addr, "alice", client.ConnConfig{Device: "phone"})
	for i := 1; i <= 5; i++ {
		m := a.recv(t)
		require.Equal(t, int64(i), m.Seq)
		require.Equal(t, string([]byte{'0' + byte(i)}), string(m.Body))
		require.Equal(t, "1", m.Get(pack.MetaPersist))
	}
	// Acked (asynchronously, after OnMessage returned): a new connection of
	// the same device gets nothing again.
	require.Eventually(t, func() bool { c, _ := store.Cursor(ctx, "alice", "phone"); return c == 5 }, waitFor, time.Millisecond)
	require.NoError(t, a.Close())
	b := dialApp(t, n.Addr, "alice", client.ConnConfig{Device: "phone"})
	res, err := pc.Send(ctx, "alice", "/chat", []byte("6"), client.Persist(time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(6), res.Seq)
	m := b.recv(t)
	require.Equal(t, int64(6), m.Seq, "only the new push; 1-5 were acked")
}

// Every device of a user gets every persistent push; one device's acks do
// not drop another's copy.
func TestConnMultiDevice(t *testing.T) {
	leakCheck(t)
	store := server.NewMemoryStore(server.MemoryStoreConfig{})
	n := startNode(t, server.Config{Store: store})
	pc := pusher(t, client.Config{Addrs: []string{n.Addr}})
	ctx := ctxT(t)
	phone := dialApp(t, n.Addr, "alice", client.ConnConfig{Device: "phone"})
	laptop := dialApp(t, n.Addr, "alice", client.ConnConfig{Device: "laptop"})
	acked := func(device string, seq int64) func() bool {
		return func() bool { c, _ := store.Cursor(ctx, "alice", device); return c == seq }
	}

	send := func(body string) int64 {
		res, err := pc.Send(ctx, "alice", "/chat", []byte(body), client.Persist(time.Hour))
		require.NoError(t, err)
		return res.Seq
	}
	s1 := send("1")
	for _, a := range []*app{phone, laptop} {
		m := a.recv(t)
		require.Equal(t, s1, m.Seq)
		require.Equal(t, "1", string(m.Body))
	}
	require.Eventually(t, acked("laptop", s1), waitFor, time.Millisecond)

	// The laptop goes away; the phone gets and acks 2 and 3.
	require.NoError(t, laptop.Close())
	s2, s3 := send("2"), send("3")
	require.Equal(t, s2, phone.recv(t).Seq)
	require.Equal(t, s3, phone.recv(t).Seq)
	require.Eventually(t, acked("phone", s3), waitFor, time.Millisecond)
	require.Equal(t, 2, store.Len("alice"), "the laptop's copies of 2 and 3 are kept")

	// A new process on the laptop (no LastSeq) resumes from the laptop's cursor.
	laptop2 := dialApp(t, n.Addr, "alice", client.ConnConfig{Device: "laptop"})
	require.Equal(t, "2", string(laptop2.recv(t).Body))
	require.Equal(t, "3", string(laptop2.recv(t).Body))
	require.Eventually(t, acked("laptop", s3), waitFor, time.Millisecond)
	require.Eventually(t, func() bool { return store.Len("alice") == 0 }, waitFor, time.Millisecond,
		"acked by both devices: dropped")
}

// A device that logged in once but has not acked anything yet still gets
// its copy: another device's ack does not drop it.
func TestConnNewDeviceKeepsItsCopy(t *testing.T) {
	leakCheck(t)
	store := server.NewMemoryStore(server.MemoryStoreConfig{})
	n := startNode(t, server.Config{Store: store})
	pc := pusher(t, client.Config{Addrs: []string{n.Addr}})
	ctx := ctxT(t)
	phone := dialApp(t, n.Addr, "alice", client.ConnConfig{Device: "phone"})
	laptop := dialApp(t, n.Addr, "alice", client.ConnConfig{Device: "laptop"})
	require.NoError(t, laptop.Close()) // logged in once, received nothing, acked nothing

	res, err := pc.Send(ctx, "alice", "/chat", []byte("for both"), client.Persist(time.Hour))
	require.NoError(t, err)
	require.Equal(t, res.Seq, phone.recv(t).Seq)
	require.Eventually(t, func() bool { c, _ := store.Cursor(ctx, "alice", "phone"); return c == res.Seq },
		waitFor, time.Millisecond)

	require.Equal(t, 1, store.Len("alice"), "the phone's ack must not drop the laptop's copy")
	laptop2 := dialApp(t, n.Addr, "alice", client.ConnConfig{Device: "laptop"})
	require.Equal(t, "for both", string(laptop2.recv(t).Body))
}

// Upstream messages reach the node's handler; protocol URIs are refused
// locally.
func TestConnSendUpstream(t *testing.T) {
	leakCheck(t)
	got := make(chan pack.Message, 10)
	n := startNode(t, server.Config{OnUpstream: func(s *server.Session, m *pack.Message) {
		got <- pack.Message{URI: m.URI, Body: m.Body, Meta: map[string]string{"uid": s.UID()}}
	}})
	a := dialApp(t, n.Addr, "alice", client.ConnConfig{})
	ctx := ctxT(t)
	require.NoError(t, a.Send(ctx, "/up", []byte("hello")))
	select {
	case m := <-got:
		require.Equal(t, pack.Message{URI: "/up", Body: []byte("hello"), Meta: map[string]string{"uid": "alice"}}, m)
	case <-time.After(waitFor):
		t.Fatal("upstream message not received")
	}
	for _, uri := range []string{"", pack.URIAck, pack.URIHeartbeat, "/inner/push", "/logic/send/msg"} {
		require.ErrorIs(t, a.Send(ctx, uri, nil), pack.CodeBadRequest, "uri %q", uri)
	}
	require.NoError(t, a.Close())
	require.ErrorIs(t, a.Send(ctx, "/up", nil), client.ErrClosed)
}

// Send waits while the Conn reconnects and goes out once it is online.
func TestConnSendWaitsWhileReconnecting(t *testing.T) {
	leakCheck(t)
	got := make(chan string, 100)
	n := startNode(t, server.Config{OnUpstream: func(_ *server.Session, m *pack.Message) { got <- string(m.Body) }})
	a := dialApp(t, n.Addr, "alice", client.ConnConfig{Backoff: client.Backoff{Min: 100 * time.Millisecond, Max: 100 * time.Millisecond}})
	require.True(t, a.KillConnection())
	a.waitState(t, client.StateReconnecting)
	require.NoError(t, a.Send(ctxT(t), "/up", []byte("after")))
	require.Equal(t, "after", recvT(t, got, "upstream message"))

	ctx, cancel := context.WithCancel(context.Background())
	require.True(t, a.KillConnection())
	a.waitState(t, client.StateReconnecting)
	cancel()
	require.ErrorIs(t, a.Send(ctx, "/up", nil), context.Canceled)
}

func TestConnDiscovery(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	hs := httptest.NewServer(n.Handler())
	defer hs.Close()
	a := newApp(t, client.ConnConfig{DiscoveryURL: hs.URL, Token: "alice"})
	require.NoError(t, a.Connect(ctxT(t)))
	res, err := pusher(t, client.Config{Addrs: []string{n.Addr}}).Send(ctxT(t), "alice", "/x", []byte("hi"))
	require.NoError(t, err)
	require.Equal(t, 1, res.Delivered)
	require.Equal(t, "hi", string(a.recv(t).Body))

	_, err = client.NewConn(client.ConnConfig{DiscoveryURL: "ftp://x"})
	require.Error(t, err)
	_, err = client.NewConn(client.ConnConfig{})
	require.Error(t, err)
}

// Protobuf and little-endian frames, end to end.
func TestConnProtobufLittleEndian(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{ByteOrder: pack.LittleEndian})
	a := dialApp(t, n.Addr, "alice", client.ConnConfig{ByteOrder: pack.LittleEndian, Codec: pack.Protobuf})
	pc := pusher(t, client.Config{Addrs: []string{n.Addr}, ByteOrder: pack.LittleEndian, Codec: pack.Protobuf})
	res, err := pc.Send(ctxT(t), "alice", "/x", []byte("π"), client.Persist(0))
	require.NoError(t, err)
	require.Equal(t, 1, res.Delivered)
	m := a.recv(t)
	require.Equal(t, "π", string(m.Body))
	require.Equal(t, res.Seq, m.Seq)
}

// NoAcks: the original apps' contract; each persistent push arrives once,
// when written, and is not replayed.
func TestConnNoAcks(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	pc := pusher(t, client.Config{Addrs: []string{n.Addr}})
	a := dialApp(t, n.Addr, "alice", client.ConnConfig{NoAcks: true})
	res, err := pc.Send(ctxT(t), "alice", "/x", []byte("once"), client.Persist(0))
	require.NoError(t, err)
	require.Equal(t, res.Seq, a.recv(t).Seq)
	require.NoError(t, a.Close())
	b := dialApp(t, n.Addr, "alice", client.ConnConfig{NoAcks: true})
	_, err = pc.Send(ctxT(t), "alice", "/x", []byte("next"))
	require.NoError(t, err)
	require.Equal(t, "next", string(b.recv(t).Body), "the persistent push was not replayed")
}

// Close may be called from a callback: it returns at once and the Conn
// stops once the callback returns.
func TestConnCloseFromCallback(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	var conn *client.Conn
	var once sync.Once
	closed := make(chan error, 1)
	c, err := client.NewConn(client.ConnConfig{Addrs: []string{n.Addr}, Token: "alice", Backoff: fast,
		OnMessage: func(*pack.Message) { once.Do(func() { closed <- conn.Close() }) }})
	require.NoError(t, err)
	conn = c
	require.NoError(t, c.Connect(ctxT(t)))
	_, err = pusher(t, client.Config{Addrs: []string{n.Addr}}).Send(ctxT(t), "alice", "/x", []byte("bye"))
	require.NoError(t, err)
	require.NoError(t, recvT(t, closed, "Close from the callback"))
	select {
	case <-c.Done():
	case <-time.After(waitFor):
		t.Fatal("Conn did not stop")
	}
	require.Equal(t, client.StateClosed, c.State())
}

// TestBackoffDelay: retry n waits in [floor, min(Max, Min·2ⁿ)], floor =
// min(100ms, Min) (docs/protocol.md §13.6). The random source is replaced
// by its extremes (0 and n-1) and checked with the real one in between.
func TestBackoffDelay(t *testing.T) {
	lowest := func(time.Duration) time.Duration { return 0 }
	highest := func(n time.Duration) time.Duration { return n - 1 }
	tests := []struct {
		name     string
		b        client.Backoff
		attempt  int
		min, max time.Duration
	}{
		{"defaults first", client.Backoff{}, 0, 100 * time.Millisecond, 500 * time.Millisecond},
		{"defaults second", client.Backoff{}, 1, 100 * time.Millisecond, time.Second},
		{"defaults capped", client.Backoff{}, 6, 100 * time.Millisecond, 30 * time.Second},
		{"defaults far", client.Backoff{}, 1000, 100 * time.Millisecond, 30 * time.Second},
		{"small min lowers the floor", client.Backoff{Min: 40 * time.Millisecond, Max: time.Second}, 0, 40 * time.Millisecond, 40 * time.Millisecond},
		{"custom", client.Backoff{Min: 200 * time.Millisecond, Max: time.Second}, 2, 100 * time.Millisecond, 800 * time.Millisecond},
		{"custom capped", client.Backoff{Min: 200 * time.Millisecond, Max: time.Second}, 3, 100 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		lo := client.BackoffDelayWith(tt.b, tt.attempt, lowest)
		hi := client.BackoffDelayWith(tt.b, tt.attempt, highest)
		require.Equal(t, tt.min, lo, "%s: lowest draw", tt.name)
		require.Equal(t, tt.max, hi, "%s: highest draw", tt.name)
		for range 100 {
			d := client.BackoffDelay(tt.b, tt.attempt)
			require.True(t, d >= tt.min && d <= tt.max, "%s: got %v, want [%v, %v]", tt.name, d, tt.min, tt.max)
		}
	}
}

// TestBackoffHealthy: the attempt counter resets after a connection that
// received a message or stayed online for 10 s, not after one that only
// authenticated and dropped.
func TestBackoffHealthy(t *testing.T) {
	b := client.Backoff{}
	require.False(t, client.BackoffHealthy(b, false, time.Second))
	require.True(t, client.BackoffHealthy(b, true, time.Millisecond))
	require.True(t, client.BackoffHealthy(b, false, client.BackoffResetAfter))
}

// A newer login of the same device replaces the older one (4002, terminal):
// the older Conn closes with that code instead of fighting back.
func TestConnReplacedIsTerminal(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	old := dialApp(t, n.Addr, "alice", client.ConnConfig{Device: "phone"})
	newer := dialApp(t, n.Addr, "alice", client.ConnConfig{Device: "phone"})
	e := old.waitState(t, client.StateClosed)
	require.ErrorIs(t, e.err, pack.CodeReplaced, "got %v", e.err)
	require.ErrorIs(t, old.Err(), pack.CodeReplaced)
	recvT(t, old.Done(), "the replaced Conn's stop")
	require.Equal(t, client.StateOnline, newer.State())
}
