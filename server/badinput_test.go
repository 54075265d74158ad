package server_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
	"github.com/plexpush/plex/server"
)

func header(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }

func TestOversizedFrameBeforeAuth(t *testing.T) {
	n := startNode(t, server.Config{})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	p := dial(t, n.Addr)
	p.sendRaw(header(0xFFFFFFFF)) // declares 4 GiB
	p.expectClosed(pack.URIDisconnect, pack.CodeFrameTooLarge)
	runtime.ReadMemStats(&after)
	// Bounded far below the 4 GiB a trusted header would cost, and far above
	// what anything else in the process allocates meanwhile.
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(512<<20), "a declared length must not be allocated")
}

func TestOversizedFrameAfterAuth(t *testing.T) {
	n := startNode(t, server.Config{MaxFrame: 1024})
	p := app(t, n.Addr, "alice", nil)
	p.sendRaw(header(1025))
	p.expectClosed(pack.URIDisconnect, pack.CodeFrameTooLarge)
	// exactly the limit is fine (an upstream message)
	q := app(t, n.Addr, "bob", nil)
	body := fmt.Sprintf(`{"uri":"/x","body":"%s"}`, make([]byte, 0))
	pad := 1024 - len(body)
	q.send(pack.Message{URI: "/x", Body: []byte(fmt.Sprintf("%0*d", pad, 0))})
	q.send(pack.Message{URI: pack.URIHeartbeat})
	require.Equal(t, pack.URIHeartbeat, q.recv().URI, "connection still serves after a max-size frame")
}

func TestAuthFrameLimitIsSmall(t *testing.T) {
	n := startNode(t, server.Config{AuthMaxFrame: 100})
	p := dial(t, n.Addr)
	p.send(pack.Message{URI: pack.URIAuth, Body: make([]byte, 200)})
	p.expectClosed(pack.URIDisconnect, pack.CodeFrameTooLarge)
}

func TestTruncatedFrameThenClose(t *testing.T) {
	n := startNode(t, server.Config{})
	p := app(t, n.Addr, "alice", nil)
	p.sendRaw(append(header(100), `{"uri":"/x"`...)) // 11 of 100 bytes, then EOF
	require.NoError(t, p.c.(*net.TCPConn).CloseWrite())
	p.expectEOF()
	eventually(t, func() bool { return !n.Online(server.User("alice")) }, "truncated peer unregistered")
}

func TestGarbageBytes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		raw   []byte
		codec pack.Codec // the codec the node answers in
	}{
		{"json garbage", append(header(9), "{garbage}"...), pack.JSON},
		{"not utf8", append(header(22), "{\"uri\":\"/auth/server\xff\"}"...), pack.JSON},
		{"protobuf garbage", append(header(3), 0x0a, 0xff, 0xff), pack.Protobuf},
		{"empty first body", header(0), pack.JSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, server.Config{})
			p := dialWith(t, n.Addr, pack.BigEndian, tc.codec)
			p.sendRaw(tc.raw)
			p.expectClosed(pack.URIDisconnect, pack.CodeBadFrame)
		})
	}
}

func TestWrongCodecMidStream(t *testing.T) {
	n := startNode(t, server.Config{})
	p := app(t, n.Addr, "alice", nil) // JSON
	pb, err := pack.EncodeFrame(pack.BigEndian, pack.Protobuf, &pack.Message{URI: pack.URIHeartbeat})
	require.NoError(t, err)
	p.sendRaw(pb)
	p.expectClosed(pack.URIDisconnect, pack.CodeBadFrame)
}

func TestPushURIsRefusedFromApps(t *testing.T) {
	// Original defect: any user could send /logic/send/msg.
	n := startNode(t, server.Config{})
	victim := app(t, n.Addr, "bob", nil)
	attacker := app(t, n.Addr, "mallory", nil)
	for i, uri := range []string{pack.URILegacyPush, pack.URIPush, "/inner/anything", "/logic/other"} {
		attacker.send(pack.Message{Seq: int64(i + 1), URI: uri, Body: []byte(`{"uid":"bob","uri":"/x","body":"pwned"}`)})
		m := attacker.recv()
		require.Equal(t, pack.URIError, m.URI)
		require.Equal(t, int64(i+1), m.Seq)
		require.Equal(t, pack.CodeForbidden, pack.ErrorOf(&m).Code)
	}
	// the connection stays usable and bob got nothing
	attacker.send(pack.Message{URI: pack.URIHeartbeat})
	require.Equal(t, pack.URIHeartbeat, attacker.recv().URI)
	_, err := victim.tryRecv(200 * time.Millisecond)
	require.Error(t, err, "victim must receive nothing")
}

func TestReservedURIsFromApps(t *testing.T) {
	n := startNode(t, server.Config{})
	p := app(t, n.Addr, "alice", nil)
	for _, uri := range []string{pack.URIReply, pack.URIAuthSuccess, pack.URIDisconnect, pack.URIAuth} {
		p.send(pack.Message{Seq: 9, URI: uri})
		m := p.recv()
		require.Equal(t, pack.URIError, m.URI, uri)
		require.Equal(t, pack.CodeBadRequest, pack.ErrorOf(&m).Code, uri)
	}
}

func TestHeartbeatEchoAndTimeout(t *testing.T) {
	// The timeout is 10 times the gap between the test's frames, so that a
	// loaded machine delaying the test goroutine does not look like a dead peer.
	n := startNode(t, server.Config{HeartbeatInterval: 100 * time.Millisecond, HeartbeatTimeout: time.Second})
	p := app(t, n.Addr, "alice", nil)
	// any frame keeps it alive: send heartbeats for longer than the timeout
	for range 13 {
		p.send(pack.Message{URI: pack.URIHeartbeat})
		require.Equal(t, pack.URIHeartbeat, p.recv().URI)
		time.Sleep(100 * time.Millisecond)
	}
	// then go silent (a half-open peer looks exactly like this)
	p.expectClosed(pack.URIDisconnect, pack.CodeHeartbeatTimeout)
	eventually(t, func() bool { return !n.Online(server.User("alice")) }, "dead peer unregistered")
}

func TestSilentConnectionsClosedAtAuthTimeout(t *testing.T) {
	n := startNode(t, server.Config{AuthTimeout: 300 * time.Millisecond, MaxPreAuthPerAddress: -1})
	const count = 1000
	conns := make([]net.Conn, 0, count)
	for range count {
		c, err := net.Dial("tcp", n.Addr)
		require.NoError(t, err)
		conns = append(conns, c)
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	eventually(t, func() bool { return n.Stats().Connections == 0 }, "every silent connection closed")
	// each got its code and EOF
	var wg sync.WaitGroup
	errs := make(chan error, count)
	for _, c := range conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			r := pack.NewReader(c, pack.BigEndian, pack.JSON, 0)
			var m pack.Message
			if err := r.ReadMessage(&m); err != nil {
				errs <- err
				return
			}
			if pack.ErrorOf(&m).Code != pack.CodeAuthTimeout {
				errs <- fmt.Errorf("got %+v", m)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestMaxConnections(t *testing.T) {
	// Original defect: MaxConnection was ignored.
	n := startNode(t, server.Config{MaxConnections: 3})
	for i := range 3 {
		app(t, n.Addr, fmt.Sprintf("u%d", i), nil)
	}
	p := dial(t, n.Addr)
	p.expectClosed(pack.URIDisconnect, pack.CodeTooManyConnections)
	require.Equal(t, 3, n.Stats().Connections)
}

// TestMaxConnectionsLeavesPushClientsIn: connections that never
// authenticate filling MaxConnections do not lock push clients out of the
// inner listener, which has its own bound (MaxInnerConnections).
func TestMaxConnectionsLeavesPushClientsIn(t *testing.T) {
	srv, addr, inner := startInnerNode(t, server.Config{Authenticator: auth.None{}, InnerSecret: secret, InnerAddr: "127.0.0.1:0",
		MaxConnections: 2, MaxInnerConnections: 2, Logger: plog.Test(t)})
	for range 2 {
		dial(t, addr) // never authenticates
	}
	eventually(t, func() bool { return srv.Stats().Connections == 2 }, "two silent connections")
	dial(t, addr).expectClosed(pack.URIDisconnect, pack.CodeTooManyConnections)
	p1 := pusher(t, inner)
	pusher(t, inner)
	dial(t, inner).expectClosed(pack.URIDisconnect, pack.CodeTooManyConnections)
	out, ce := p1.push(1, server.PushRequest{UID: "bob", URI: "/p"})
	require.Nil(t, ce)
	require.Equal(t, 1, out.Offline)
}

func TestConnectionFilter(t *testing.T) {
	n := startNode(t, server.Config{Filter: func(a net.Addr) bool {
		return a.(*net.TCPAddr).IP.Equal(net.ParseIP("127.0.0.1"))
	}})
	app(t, n.Addr, "alice", nil)
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	c, err := d.Dial("tcp", n.Addr)
	require.NoError(t, err)
	p := &peer{t: t, c: c, r: pack.NewReader(c, pack.BigEndian, pack.JSON, 0), w: pack.NewWriter(c, pack.BigEndian, pack.JSON)}
	p.expectClosed(pack.URIDisconnect, pack.CodeRefused)
}

// emfileListener fails Accept with EMFILE a few times, like a process at
// its file limit, then serves normally.
type emfileListener struct {
	net.Listener
	mu    sync.Mutex
	fails int
}

func (l *emfileListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if l.fails > 0 {
		l.fails--
		l.mu.Unlock()
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	l.mu.Unlock()
	return l.Listener.Accept()
}

func TestAcceptEMFILEBacksOff(t *testing.T) {
	srv, err := server.New(server.Config{Authenticator: nilAuthOK{}})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	el := &emfileListener{Listener: ln, fails: 5}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(el) }()
	p := dial(t, ln.Addr().String())
	p.auth("alice", nil) // served once the errors pass
	require.NoError(t, srv.Close())
	require.ErrorIs(t, <-done, server.ErrServerClosed)
}

type nilAuthOK struct{}

func (nilAuthOK) Authenticate(_ context.Context, token string, _ net.Addr) (string, error) {
	return token, nil
}

func TestWriteTimeoutClosesNonReader(t *testing.T) {
	// A peer that stays connected but never reads: once the kernel cannot
	// send for WriteTimeout, the node drops it, long before the queue bound.
	n := startNode(t, server.Config{WriteTimeout: 300 * time.Millisecond, WriteQueueBytes: 64 << 20})
	stuck := app(t, n.Addr, "stuck", nil)
	body := make([]byte, 32<<10)
	for i := range body {
		body[i] = 'x'
	}
	deadline := time.Now().Add(20 * time.Second)
	for n.Online(server.User("stuck")) {
		require.True(t, time.Now().Before(deadline), "non-reader never dropped")
		_, err := n.Push(t.Context(), server.User("stuck"), pack.Message{URI: "/big", Body: body})
		require.NoError(t, err)
		time.Sleep(5 * time.Millisecond)
	}
	_ = stuck
	require.Equal(t, 1.0, metricValue(t, n, "plex_closes_total", "3002"))
}

func TestIdleConnectionSurvivesKernelKeepalive(t *testing.T) {
	// TCP_USER_TIMEOUT (our write deadline) also bounds unanswered keepalive
	// probes; with the listener's keepalive on, Linux reset idle connections
	// after idle+interval. Liveness is the heartbeat's job: the node turns
	// keepalive off on its connections.
	srv, err := server.New(server.Config{Authenticator: nilAuthOK{}, InnerSecret: secret,
		WriteTimeout: 500 * time.Millisecond, HeartbeatInterval: time.Minute})
	require.NoError(t, err)
	lc := net.ListenConfig{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 300 * time.Millisecond,
		Interval: 300 * time.Millisecond, Count: 9}}
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer func() { require.NoError(t, srv.Close()); <-done }()
	p := dial(t, ln.Addr().String())
	p.auth("idle", nil)
	time.Sleep(2 * time.Second) // idle well past idle+interval+user timeout
	require.True(t, srv.Online(server.User("idle")), "an idle connection must not be reset")
	out, err := srv.Push(t.Context(), server.User("idle"), pack.Message{URI: "/still-there"})
	require.NoError(t, err)
	require.Equal(t, 1, out.Delivered)
	require.Equal(t, "/still-there", p.recv().URI)
}

// TestBadResumeAndTTLRefused: resume must be a decimal >= 0 (protocol §9)
// and ttl_ms between 0 and a year: anything else is refused with 4004,
// never read as something else (a negative resume as none, a huge ttl_ms
// wrapped to a short TTL).
func TestBadResumeAndTTLRefused(t *testing.T) {
	n := startNode(t, server.Config{})
	for _, r := range []string{"-5", "-0", "+1", "1.5", "abc", "99999999999999999999"} {
		p := dial(t, n.Addr)
		p.send(pack.Message{URI: pack.URIAuth, Body: []byte("alice"), Meta: map[string]string{pack.MetaResume: r}})
		p.expectClosed(pack.URIAuthFailed, pack.CodeBadRequest)
	}
	for _, r := range []string{"0", "7"} {
		app(t, n.Addr, "alice", map[string]string{pack.MetaResume: r})
	}
	p := pusher(t, n.Addr)
	for i, ttl := range []int64{-1, 18446744073710, server.MaxPushTTL.Milliseconds() + 1} {
		_, ce := p.push(int64(i+1), server.PushRequest{UID: "bob", URI: "/p", Persist: true, TTLMS: ttl})
		require.NotNil(t, ce, "ttl_ms %d", ttl)
		require.Equal(t, pack.CodeBadRequest, ce.Code, "ttl_ms %d", ttl)
	}
	out, ce := p.push(9, server.PushRequest{UID: "bob", URI: "/p", Persist: true, TTLMS: server.MaxPushTTL.Milliseconds()})
	require.Nil(t, ce)
	require.Equal(t, 1, out.Stored)
}
