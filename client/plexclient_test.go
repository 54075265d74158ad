package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

func TestSendOutcomes(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	a := dialApp(t, n.Addr, "alice", client.ConnConfig{})
	b := dialApp(t, n.Addr, "bob", client.ConnConfig{})
	pc := pusher(t, client.Config{Addrs: []string{n.Addr}})
	ctx := ctxT(t)

	res, err := pc.Send(ctx, "alice", "/chat", []byte("1"))
	require.NoError(t, err)
	require.Equal(t, client.Result{Delivered: 1}, res)
	require.Equal(t, "1", string(a.recv(t).Body))

	res, err = pc.Send(ctx, "nobody", "/chat", []byte("2"))
	require.NoError(t, err)
	require.Equal(t, client.Result{Offline: 1}, res, "a push that reached nobody says so")

	res, err = pc.SendUsers(ctx, []string{"alice", "bob", "nobody"}, "/chat", []byte("3"))
	require.NoError(t, err)
	require.Equal(t, client.Result{Delivered: 2, Offline: 1}, res)
	require.Equal(t, "3", string(a.recv(t).Body))
	require.Equal(t, "3", string(b.recv(t).Body))

	n.Join(server.Room("room1"), "bob")
	res, err = pc.SendRoom(ctx, "room1", "/room", []byte("4"))
	require.NoError(t, err)
	require.Equal(t, client.Result{Delivered: 1}, res)
	m := b.recv(t)
	require.Equal(t, "/room", m.URI)
	require.Equal(t, "4", string(m.Body))

	res, err = pc.Broadcast(ctx, "/all", []byte("5"), client.Meta("k", "v"))
	require.NoError(t, err)
	require.Equal(t, client.Result{Delivered: 2}, res)
	for _, x := range []*app{a, b} {
		m := x.recv(t)
		require.Equal(t, "/all", m.URI)
		require.Equal(t, "v", m.Get("k"), "meta travels with the push")
	}
}

func TestSendRefusedRequests(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{MaxFrame: 4096})
	pc := pusher(t, client.Config{Addrs: []string{n.Addr}})
	ctx := ctxT(t)
	tests := []struct {
		name string
		send func() error
	}{
		{"empty uid", func() error { _, err := pc.Send(ctx, "", "/x", nil); return err }},
		{"empty uri", func() error { _, err := pc.Send(ctx, "a", "", nil); return err }},
		{"reserved uri", func() error { _, err := pc.Send(ctx, "a", pack.URIAck, nil); return err }},
		{"protocol uri", func() error { _, err := pc.Send(ctx, "a", pack.URIInnerAuth, nil); return err }},
		{"body not UTF-8", func() error { _, err := pc.Send(ctx, "a", "/x", []byte{0xff}); return err }},
		{"no uids", func() error { _, err := pc.SendUsers(ctx, nil, "/x", nil); return err }},
		{"empty uid in uids", func() error { _, err := pc.SendUsers(ctx, []string{"a", ""}, "/x", nil); return err }},
		{"no room", func() error { _, err := pc.SendRoom(ctx, "", "/x", nil); return err }},
		{"persistent room push", func() error {
			_, err := pc.SendRoom(ctx, "r", "/x", nil, client.Persist(time.Minute))
			return err
		}},
		{"persistent broadcast", func() error { _, err := pc.Broadcast(ctx, "/x", nil, client.Persist(0)); return err }},
		// refused by the node, not the client: the body is over its frame limit
		{"too large (node)", func() error { _, err := pc.Send(ctx, "a", "/x", make([]byte, 8192)); return err }},
		{"legacy reserved uri", func() error { return pc.SendLegacy(ctx, "a", pack.URIReply, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.send()
			require.ErrorIs(t, err, pack.CodeBadRequest, "got %v, want a 4004 bad request", err)
			var ce *pack.CodeError
			require.ErrorAs(t, err, &ce)
		})
	}
	// The connection survived every refusal.
	res, err := pc.Send(ctx, "a", "/x", []byte("ok"))
	require.NoError(t, err)
	require.Equal(t, client.Result{Offline: 1}, res)
}

func TestSendWrongSecret(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	pc := pusher(t, client.Config{Addrs: []string{n.Addr}, Secret: "wrong"})
	ctx := ctxT(t)
	_, err := pc.Send(ctx, "alice", "/chat", []byte("x"))
	require.ErrorIs(t, err, client.ErrAuth, "got %v", err)
	require.ErrorIs(t, err, pack.CodeAuthFailed, "got %v", err)
	require.NoError(t, ctx.Err(), "Send must fail promptly, not wait for ctx")
	// Terminal: every later Send fails the same way at once, without a dial.
	_, err = pc.Send(context.Background(), "alice", "/chat", []byte("x"))
	require.ErrorIs(t, err, client.ErrAuth)
	require.Equal(t, 0, pc.Stats().Connected)
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestSendEveryNodeDown(t *testing.T) {
	leakCheck(t)
	down := []string{closedAddr(t), closedAddr(t)}

	// ctx bounds the wait for a node
	pc := pusher(t, client.Config{Addrs: down, RequestTimeout: waitFor})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := pc.Send(ctx, "alice", "/chat", []byte("x"))
	require.ErrorIs(t, err, client.ErrNoNode, "got %v", err)
	require.ErrorIs(t, err, context.DeadlineExceeded, "got %v", err)

	// without a deadline, RequestTimeout bounds it
	pc = pusher(t, client.Config{Addrs: down, RequestTimeout: time.Second})
	_, err = pc.Send(context.Background(), "alice", "/chat", []byte("x"))
	require.ErrorIs(t, err, client.ErrNoNode, "got %v", err)
	require.ErrorContains(t, err, "connection refused", "the last node error is reported")
	require.Equal(t, 0, pc.Stats().Waiting)
}

func TestSendCancelledContext(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	pc := pusher(t, client.Config{Addrs: []string{n.Addr}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := pc.Send(ctx, "alice", "/chat", []byte("x"))
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, client.ErrOutcomeUnknown, "a push never written is not 'unknown'")

	// cancelled while waiting for a node
	down := pusher(t, client.Config{Addrs: []string{closedAddr(t)}})
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = down.Send(ctx, "alice", "/chat", []byte("x"))
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, client.ErrNoNode)
}

func TestSendAfterClose(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	pc := pusher(t, client.Config{Addrs: []string{n.Addr}})
	require.NoError(t, pc.Close())
	_, err := pc.Send(ctxT(t), "alice", "/chat", []byte("x"))
	require.ErrorIs(t, err, client.ErrClosed)
}

// Pushes issued while every node is reconnecting wait and go out after the
// reconnect.
func TestSendWaitsForReconnect(t *testing.T) {
	leakCheck(t)
	addr := closedAddr(t)
	pc := pusher(t, client.Config{Addrs: []string{addr}})

	const pushes = 20
	var wg sync.WaitGroup
	errs := make(chan error, pushes)
	for i := range pushes {
		wg.Go(func() {
			res, err := pc.Send(ctxT(t), fmt.Sprint("u", i), "/x", []byte("x"), client.Persist(0))
			if err == nil && res != (client.Result{Stored: 1, Offline: 1, Seq: 1}) {
				err = fmt.Errorf("push %d: got %+v, want stored for an offline user", i, res)
			}
			errs <- err
		})
	}
	require.Eventually(t, func() bool { return pc.Stats().Waiting == pushes }, waitFor, time.Millisecond)

	srv, err := server.New(server.Config{InnerSecret: secret})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", addr) // the node comes (back) up
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		require.NoError(t, srv.Shutdown(ctxT(t)))
		require.ErrorIs(t, <-served, server.ErrServerClosed)
	}()

	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 0, pc.Stats().Waiting)
}

func TestSendFailsOverToHealthyNode(t *testing.T) {
	leakCheck(t)
	a := startNode(t, server.Config{})
	b := startNode(t, server.Config{})
	pc := pusher(t, client.Config{Addrs: []string{a.Addr, b.Addr, closedAddr(t)}})
	ctx := ctxT(t)
	for i := range 10 {
		_, err := pc.Send(ctx, "u", "/x", []byte(fmt.Sprint(i)))
		require.NoError(t, err)
	}
	a.Stop() // /disconnect 3000: the client reconnects elsewhere
	for i := range 50 {
		_, err := pc.Send(ctx, "u", "/x", []byte(fmt.Sprint(i)))
		require.NoError(t, err, "push %d after node a stopped", i)
	}
}

// stalledListener accepts connections and never reads from them.
func stalledListener(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}

// A stalled node (accepts, then never reads) does not stop delivery
// through a healthy one.
func TestStalledNodeDoesNotBlockDelivery(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	a := dialApp(t, n.Addr, "alice", client.ConnConfig{})
	pc := pusher(t, client.Config{
		Addrs:       []string{stalledListener(t), n.Addr, stalledListener(t)},
		DialTimeout: 200 * time.Millisecond,
	})
	ctx := ctxT(t)
	const pushes = 200
	for i := range pushes {
		res, err := pc.Send(ctx, "alice", "/chat", []byte(fmt.Sprint(i)))
		require.NoError(t, err, "push %d", i)
		require.Equal(t, 1, res.Delivered)
	}
	for i := range pushes {
		require.Equal(t, fmt.Sprint(i), string(a.recv(t).Body))
	}
}

// fakeNode accepts connections, answers the inner auth with /auth/success,
// then reads nothing more: a node that hangs after the handshake.
func fakeNode(t *testing.T, info string) (addr string, accepts *atomic.Int64) {
	return scriptedNode(t, info, nil)
}

// A node that authenticates and then stalls costs at most the requests it
// swallowed, each reported as ErrOutcomeUnknown; everything else is
// delivered through the healthy node exactly once.
func TestNodeStallingAfterAuth(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	a := dialApp(t, n.Addr, "alice", client.ConnConfig{})
	stalled, accepts := fakeNode(t, `{"heartbeat_ms":30000,"timeout_ms":75000}`)
	pc := pusher(t, client.Config{
		Addrs: []string{stalled, n.Addr},
		// Long enough that the healthy node is never taken for stalled on
		// a loaded machine; each push lost to the stalled node costs it.
		RequestTimeout: time.Second,
	})
	ctx := ctxT(t)
	require.Eventually(t, func() bool { return pc.Stats().Connected == 2 }, waitFor, time.Millisecond)

	var ok, unknown int
	for i := range 60 {
		res, err := pc.Send(ctx, "alice", "/chat", []byte(fmt.Sprint(i)))
		switch {
		case err == nil:
			require.Equal(t, 1, res.Delivered)
			ok++
		case errors.Is(err, client.ErrOutcomeUnknown):
			unknown++
		default:
			t.Fatalf("push %d: %v; want nil or ErrOutcomeUnknown", i, err)
		}
	}
	require.GreaterOrEqual(t, unknown, 1, "the first push routed to the stalled node is lost with it")
	require.LessOrEqual(t, int64(unknown), accepts.Load(), "at most one sequential push per stalled connection")
	require.Positive(t, ok)
	for range ok {
		a.recv(t)
	}
	select {
	case m := <-a.msgs:
		t.Fatalf("unexpected extra delivery %q", m.Body)
	case <-time.After(100 * time.Millisecond):
	}
}

// Many concurrent Sends are pipelined on one connection.
func TestSendPipelined(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	pc := pusher(t, client.Config{Addrs: []string{n.Addr}})
	ctx := ctxT(t)
	_, err := pc.Send(ctx, "warmup", "/x", nil)
	require.NoError(t, err)
	const pushes = 2000
	var wg sync.WaitGroup
	errs := make(chan error, pushes)
	for i := range pushes {
		wg.Go(func() {
			res, err := pc.Send(ctx, fmt.Sprint("u", i), "/x", []byte("x"), client.Persist(0))
			if err == nil && res.Stored != 1 {
				err = fmt.Errorf("push %d: %+v, want stored", i, res)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	st := pc.Stats()
	t.Logf("client→node: %d frames in %d writes (%.1f frames/write)", st.Frames, st.Writes, float64(st.Frames)/float64(st.Writes))
	require.Equal(t, 0, st.Pending)
}

func TestPlexClientDiscovery(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	hs := httptest.NewServer(n.Handler())
	defer hs.Close()
	a := dialApp(t, n.Addr, "alice", client.ConnConfig{})
	pc := pusher(t, client.Config{DiscoveryURL: hs.URL})
	res, err := pc.Send(ctxT(t), "alice", "/chat", []byte("found"))
	require.NoError(t, err)
	require.Equal(t, 1, res.Delivered)
	require.Equal(t, "found", string(a.recv(t).Body))
}

// The client's /inner/push frame is what the node decodes, and the node's
// Outcome reads as a Result.
func TestPushWireMatchesNode(t *testing.T) {
	frame, err := client.PushFrame(7, "alice", "/chat", []byte("hi <&>"), client.Persist(1500*time.Millisecond), client.Meta("k", "v"))
	require.NoError(t, err)
	var m pack.Message
	require.NoError(t, pack.NewReader(bytes.NewReader(frame), pack.BigEndian, pack.JSON, 0).ReadMessage(&m))
	require.Equal(t, int64(7), m.Seq)
	require.Equal(t, pack.URIPush, m.URI)
	var got pack.PushRequest
	require.NoError(t, pack.DecodePushRequest(m.Body, &got))
	require.Equal(t, server.PushRequest{UID: "alice", URI: "/chat", Body: "hi <&>", Persist: true, TTLMS: 1500,
		Meta: map[string]string{"k": "v"}}, got)

	for _, o := range []pack.Outcome{{Delivered: 1, Stored: 2, Offline: 3, Seq: 4}, {}} {
		var res client.Result
		require.NoError(t, json.Unmarshal(pack.AppendOutcome(nil, &o), &res))
		require.Equal(t, client.Result(o), res)
	}
}

// An idle PlexClient connection heartbeats at the node's interval: the node
// would close it after its timeout otherwise.
func TestPlexClientHeartbeat(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{HeartbeatInterval: 50 * time.Millisecond, HeartbeatTimeout: time.Second})
	pc := pusher(t, client.Config{Addrs: []string{n.Addr}})
	_, err := pc.Send(ctxT(t), "alice", "/x", nil)
	require.NoError(t, err)
	before := pc.Stats().Writes
	time.Sleep(2500 * time.Millisecond) // 2.5 node timeouts
	require.GreaterOrEqual(t, pc.Stats().Writes-before, uint64(5), "heartbeats were written while idle")
	res, err := pc.Send(ctxT(t), "alice", "/x", nil)
	require.NoError(t, err)
	require.Equal(t, client.Result{Offline: 1}, res)
}

// Secrets never reach logs or formatted configs (the original logged them).
func TestSecretsNeverLogged(t *testing.T) {
	leakCheck(t)
	const innerSecret, token = "inner-SECRET-value", "tok-SECRET-value!"
	var mu sync.Mutex
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n := startNode(t, server.Config{})

	cfg := client.Config{Addrs: []string{n.Addr}, Secret: innerSecret, Logger: logger}
	pc := pusher(t, cfg)
	_, err := pc.Send(ctxT(t), "alice", "/x", nil)
	require.ErrorIs(t, err, client.ErrAuth)
	require.NotContains(t, err.Error(), "SECRET")

	ccfg := client.ConnConfig{Addrs: []string{n.Addr}, Token: token, Logger: logger}
	_, err = client.Dial(ctxT(t), ccfg)
	require.ErrorIs(t, err, client.ErrAuth)
	require.NotContains(t, err.Error(), "SECRET")

	logger.Info("configs", "push", cfg, "app", ccfg)
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, logs.String())
	require.NotContains(t, logs.String(), "SECRET", "logs: %s", logs.String())
	require.NotContains(t, fmt.Sprintf("%v %+v %#v", cfg, ccfg, cfg), "SECRET")
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// A node shutting down under pipelined load: a push is retried on the other
// node only when it provably was not written, so nothing arrives twice, and
// every push reported delivered arrives.
func TestNodeLossDuringPipelinedSends(t *testing.T) {
	leakCheck(t)
	a, b := startNode(t, server.Config{}), startNode(t, server.Config{})
	// alice has a connection on each node (different devices).
	onA := dialApp(t, a.Addr, "alice", client.ConnConfig{Device: "a"})
	onB := dialApp(t, b.Addr, "alice", client.ConnConfig{Device: "b"})
	pc := pusher(t, client.Config{Addrs: []string{a.Addr, b.Addr}})
	require.Eventually(t, func() bool { return pc.Stats().Connected == 2 }, waitFor, time.Millisecond)
	ctx := ctxT(t)

	const pushes = 3000
	type outcome struct {
		res client.Result
		err error
	}
	outcomes := make([]outcome, pushes)
	var wg sync.WaitGroup
	var started atomic.Int64
	for i := range pushes {
		wg.Go(func() {
			started.Add(1)
			res, err := pc.Send(ctx, "alice", "/x", []byte(fmt.Sprint(i)))
			outcomes[i] = outcome{res, err}
		})
	}
	for started.Load() < pushes/2 {
		time.Sleep(time.Microsecond)
	}
	a.Stop()
	wg.Wait()

	received := map[string]int{}
	drain := func(x *app) {
		for {
			select {
			case m := <-x.msgs:
				received[string(m.Body)]++
			case <-time.After(300 * time.Millisecond):
				return
			}
		}
	}
	drain(onA)
	drain(onB)
	var ok, offline, unknown int
	for i, o := range outcomes {
		body := fmt.Sprint(i)
		require.LessOrEqual(t, received[body], 1, "push %d arrived %d times", i, received[body])
		switch {
		case o.err == nil && o.res.Delivered == 1:
			ok++
			require.Equal(t, 1, received[body], "push %d reported delivered but did not arrive", i)
		case o.err == nil:
			offline++ // alice's connection on the closing node was already gone
			require.Equal(t, client.Result{Offline: 1}, o.res)
		case errors.Is(o.err, client.ErrOutcomeUnknown):
			unknown++
		default:
			t.Fatalf("push %d: %v", i, o.err)
		}
	}
	t.Logf("%d delivered, %d offline, %d outcome unknown", ok, offline, unknown)
	require.Greater(t, ok, pushes/2)
}

// MaxPending bounds the sends waiting for a node; more fail at once.
func TestSendQueueBound(t *testing.T) {
	leakCheck(t)
	pc := pusher(t, client.Config{Addrs: []string{closedAddr(t)}, MaxPending: 5})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 5 {
		wg.Go(func() {
			_, err := pc.Send(ctx, "alice", "/x", nil)
			errs <- err
		})
	}
	require.Eventually(t, func() bool { return pc.Stats().Waiting == 5 }, waitFor, time.Millisecond)
	_, err := pc.Send(ctx, "alice", "/x", nil)
	require.ErrorIs(t, err, client.ErrQueueFull)
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorIs(t, err, client.ErrNoNode)
	}
	require.Equal(t, 0, pc.Stats().Waiting)
}

func TestNewValidatesConfig(t *testing.T) {
	for _, cfg := range []client.Config{
		{Secret: "s"},
		{Addrs: []string{"127.0.0.1:1"}},
		{Addrs: []string{"127.0.0.1:1", ""}, Secret: "s"},
		{DiscoveryURL: "tcp://x", Secret: "s"},
	} {
		_, err := client.New(cfg)
		require.Error(t, err, "%+v", cfg)
	}
	_, err := client.NewConn(client.ConnConfig{Addrs: []string{""}})
	require.Error(t, err)
}

// A node that goes silent while it holds pushes (frozen) is left for new
// pushes within a couple of seconds, long before RequestTimeout: they go
// to the other node, while those it holds end with ErrOutcomeUnknown once
// its silence marks it dead (4 s), also before RequestTimeout.
func TestSilentNodeIsLeftForNewPushes(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	a := dialApp(t, n.Addr, "alice", client.ConnConfig{})
	silent, _ := fakeNode(t, `{"heartbeat_ms":30000,"timeout_ms":75000}`)
	pc := pusher(t, client.Config{Addrs: []string{silent, n.Addr}, RequestTimeout: 30 * time.Second})
	ctx := ctxT(t)
	require.Eventually(t, func() bool { return pc.Stats().Connected == 2 }, waitFor, time.Millisecond)

	// concurrent pushes: round-robin hands some to the silent node
	held := make(chan error, 10)
	for i := range 10 {
		go func() {
			_, err := pc.Send(ctx, "alice", "/held", []byte(fmt.Sprint(i)))
			held <- err
		}()
	}
	require.Eventually(t, func() bool { return pc.Stats().Silent == 1 }, 5*time.Second, 10*time.Millisecond,
		"the node that answers nothing is noticed")

	// every new push goes to the node that answers, none waits for the silent one
	for i := range 40 {
		sctx, cancel := context.WithTimeout(ctx, 4*time.Second) // far inside RequestTimeout
		res, err := pc.Send(sctx, "alice", "/chat", []byte(fmt.Sprint(i)))
		cancel()
		require.NoError(t, err, "push %d after the node went silent", i)
		require.Equal(t, 1, res.Delivered)
	}
	var unknown int
	for range 10 {
		var err error
		select {
		case err = <-held:
		case <-time.After(15 * time.Second): // RequestTimeout is 30 s
			t.Fatal("a push held by the silent node waited for RequestTimeout")
		}
		if err != nil {
			require.ErrorIs(t, err, client.ErrOutcomeUnknown)
			unknown++
		}
	}
	require.Positive(t, unknown, "the pushes the silent node held end as unknown")
	got := 0
	for got < 40+10-unknown {
		a.recv(t)
		got++
	}
}
