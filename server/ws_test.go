package server_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
	"github.com/plexpush/plex/server"
)

func TestWSAuthPushRoomBroadcast(t *testing.T) {
	n := startWSNode(t, server.Config{})
	alice := wsDial(t, n.http)
	info := alice.auth("alice", map[string]string{pack.MetaVersion: "1"})
	require.Equal(t, "alice", info.UID)
	require.Equal(t, n.NodeID(), info.Node)
	require.Equal(t, pack.DefaultLimit, info.MaxFrame)
	tcp := app(t, n.Addr, "bob", nil) // a TCP app beside it

	out, err := n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/chat", Body: []byte(`hi "alice" <&>`)})
	require.NoError(t, err)
	require.Equal(t, 1, out.Delivered)
	m := alice.recv()
	require.Equal(t, "/chat", m.URI)
	require.Equal(t, `hi "alice" <&>`, string(m.Body))

	n.Join(server.Room("lobby"), "alice")
	n.Join(server.Room("lobby"), "bob")
	out, err = n.Push(ctx(t), server.Room("lobby"), pack.Message{URI: "/room", Body: []byte("r")})
	require.NoError(t, err)
	require.Equal(t, 2, out.Delivered)
	require.Equal(t, "/room", alice.recv().URI)
	require.Equal(t, "/room", tcp.recv().URI)

	out, err = n.Push(ctx(t), server.Everyone(), pack.Message{URI: "/all", Body: []byte("b")})
	require.NoError(t, err)
	require.Equal(t, 2, out.Delivered)
	require.Equal(t, "/all", alice.recv().URI)
	require.Equal(t, "/all", tcp.recv().URI)

	require.True(t, n.Online(server.User("alice")))
	alice.c.Close()
	eventually(t, func() bool { return !n.Online(server.User("alice")) }, "alice offline after the socket closed")
}

func TestWSProtobufUsesBinaryMessages(t *testing.T) {
	n := startWSNode(t, server.Config{})
	p := wsDial(t, n.http)
	p.codec = pack.Protobuf
	p.auth("alice", nil)
	p.send(pack.Message{URI: pack.URIHeartbeat})
	require.Equal(t, pack.URIHeartbeat, p.recv().URI) // recv asserts the binary type
	_, err := n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/bin", Body: []byte("x")})
	require.NoError(t, err)
	require.Equal(t, "/bin", p.recv().URI)
}

func TestWSAuthFailures(t *testing.T) {
	n := startWSNode(t, server.Config{})
	t.Run("bad token", func(t *testing.T) {
		p := wsDial(t, n.http)
		p.send(pack.Message{URI: pack.URIAuth, Body: []byte("not a uid!")})
		p.expectClosed(pack.URIAuthFailed, pack.CodeAuthFailed)
	})
	t.Run("first frame not auth", func(t *testing.T) {
		p := wsDial(t, n.http)
		p.send(pack.Message{URI: "/chat"})
		p.expectClosed(pack.URIAuthFailed, pack.CodeAuthFailed)
	})
	t.Run("push client over websocket", func(t *testing.T) {
		p := wsDial(t, n.http)
		p.send(pack.Message{URI: pack.URIInnerAuth, Body: []byte(secret)})
		p.expectClosed(pack.URIAuthFailed, pack.CodeAuthFailed)
	})
	t.Run("undecodable first message", func(t *testing.T) {
		p := wsDial(t, n.http)
		require.NoError(t, p.writeFrame(0x2, []byte{0xff, 0xff, 0xff}))
		p.codec = pack.Protobuf // the first byte made it a protobuf connection
		p.expectClosed(pack.URIDisconnect, pack.CodeBadFrame)
	})
	t.Run("auth timeout", func(t *testing.T) {
		n := startWSNode(t, server.Config{AuthTimeout: 100 * time.Millisecond})
		p := wsDial(t, n.http)
		p.expectClosed(pack.URIDisconnect, pack.CodeAuthTimeout)
	})
}

func TestWSHeartbeat(t *testing.T) {
	// The timeout is 10 times the gap between the test's frames (a loaded
	// machine may delay the test goroutine); each phase outlasts it.
	n := startWSNode(t, server.Config{HeartbeatInterval: 100 * time.Millisecond, HeartbeatTimeout: time.Second})
	p := wsApp(t, n.http, "alice", nil)
	// /heartbeat is echoed; a WebSocket ping is answered and keeps the
	// connection alive like any other inbound frame.
	for range 12 {
		p.send(pack.Message{URI: pack.URIHeartbeat})
		require.Equal(t, pack.URIHeartbeat, p.recv().URI)
		time.Sleep(100 * time.Millisecond)
	}
	for range 12 {
		require.NoError(t, p.writeFrame(0x9, []byte("ping")))
		op, payload, err := p.readFrame(5 * time.Second)
		require.NoError(t, err)
		require.Equal(t, byte(0xA), op)
		require.Equal(t, "ping", string(payload))
		time.Sleep(100 * time.Millisecond)
	}
	start := time.Now()
	p.expectClosed(pack.URIDisconnect, pack.CodeHeartbeatTimeout)
	require.Less(t, time.Since(start), 10*time.Second, "closed long after the 1 s heartbeat timeout")
}

func TestWSOversizeMessages(t *testing.T) {
	cfg := server.Config{AuthMaxFrame: 1024, MaxFrame: 16 << 10}
	n := startWSNode(t, cfg)
	t.Run("before auth: over the auth limit", func(t *testing.T) {
		p := wsDial(t, n.http)
		require.NoError(t, p.writeFrame(0x1, []byte(`{"uri":"/auth/server","body":"`+strings.Repeat("a", 1100)+`"}`)))
		p.expectClosed(pack.URIDisconnect, pack.CodeFrameTooLarge)
	})
	t.Run("before auth: flood of small messages", func(t *testing.T) {
		p := wsDial(t, n.http)
		// heartbeats are fine before auth, but not 4 KiB of them
		for range 400 {
			if p.writeFrame(0x1, []byte(`{"uri":"/heartbeat"}`)) != nil {
				break
			}
		}
		p.expectClosed(pack.URIDisconnect, pack.CodeFrameTooLarge)
	})
	t.Run("after auth: the limit is raised", func(t *testing.T) {
		p := wsApp(t, n.http, "alice", nil)
		p.send(pack.Message{URI: pack.URIHeartbeat, Body: []byte(strings.Repeat("h", 8<<10))})
		require.Equal(t, pack.URIHeartbeat, p.recv().URI)
	})
	t.Run("after auth: over the frame limit", func(t *testing.T) {
		before := metricValue(t, n.node, "plex_bad_frames_total", "too_large")
		p := wsApp(t, n.http, "alice", nil)
		// refused as soon as the frame header is read
		_ = p.writeFrame(0x1, []byte(`{"uri":"/x","body":"`+strings.Repeat("a", 17<<10)+`"}`))
		p.expectClosed(pack.URIDisconnect, pack.CodeFrameTooLarge)
		eventually(t, func() bool { return !n.Online(server.User("alice")) }, "alice offline")
		require.Equal(t, before+1, metricValue(t, n.node, "plex_bad_frames_total", "too_large"))
	})
}

func TestWSOrigin(t *testing.T) {
	n := startWSNode(t, server.Config{WebSocketOrigins: []string{"https://app.example.com", "*.example.org", "localhost:*"}})
	cases := []struct {
		origin string
		ok     bool
	}{
		{"", true},                          // not a browser
		{"http://" + n.http, true},          // same origin
		{"https://app.example.com", true},   // listed
		{"https://chat.example.org", true},  // pattern
		{"http://localhost:8080", true},     // pattern with port
		{"https://evil.example.com", false}, // not listed
		{"https://example.org", false},      // pattern needs a subdomain
		{"null", false},
	}
	for _, c := range cases {
		t.Run(c.origin, func(t *testing.T) {
			hdr := http.Header{}
			if c.origin != "" {
				hdr.Set("Origin", c.origin)
			}
			p, resp := wsHandshake(t, n.http, hdr, nil)
			if !c.ok {
				require.Nil(t, p)
				require.Equal(t, http.StatusForbidden, resp.StatusCode)
				return
			}
			require.NotNil(t, p, "handshake answered %s", resp.Status)
			p.auth("alice", nil)
		})
	}
	require.Equal(t, float64(3), metricValue(t, n.node, "plex_refused_total", "origin"))

	t.Run("default is same origin only", func(t *testing.T) {
		n := startWSNode(t, server.Config{})
		p, resp := wsHandshake(t, n.http, http.Header{"Origin": {"http://other.test"}}, nil)
		require.Nil(t, p)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		p, _ = wsHandshake(t, n.http, http.Header{"Origin": {"http://" + n.http}}, nil)
		require.NotNil(t, p)
	})
	t.Run("dns rebinding: same origin under a name that is not the node's", func(t *testing.T) {
		n := startWSNode(t, server.Config{AdvertiseAddr: "push.example.net:9578"})
		_, port, _ := net.SplitHostPort(n.http)
		for host, ok := range map[string]bool{
			"attacker.example:" + port:             false, // resolves to the node: the attacker's page is "same origin"
			"push.example.net:" + port:             true,  // the advertised name
			"localhost:" + port:                    true,
			"app.localhost:" + port:                true,
			"127.0.0.1:" + port:                    true,
			"[::1]:" + port:                        true,
			"attacker.example.localhost.x:" + port: false,
		} {
			p, resp := wsHandshake(t, n.http, http.Header{"Host": {host}, "Origin": {"http://" + host}}, nil)
			if ok {
				require.NotNil(t, p, "%s: %s", host, resp.Status)
			} else {
				require.Nil(t, p, host)
				require.Equal(t, http.StatusForbidden, resp.StatusCode, host)
			}
		}
		n2 := startWSNode(t, server.Config{WebSocketOrigins: []string{"attacker.example:*"}})
		_, port2, _ := net.SplitHostPort(n2.http)
		h := "attacker.example:" + port2
		p, resp := wsHandshake(t, n2.http, http.Header{"Host": {h}, "Origin": {"http://" + h}}, nil)
		require.NotNil(t, p, "a name listed in WebSocketOrigins: %s", resp.Status)
	})
	t.Run("disabled", func(t *testing.T) {
		n := startWSNode(t, server.Config{DisableWebSocket: true})
		p, resp := wsHandshake(t, n.http, nil, nil)
		require.Nil(t, p)
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
}

func TestWSSlowReaderIsDropped(t *testing.T) {
	n := startWSNode(t, server.Config{WriteQueueBytes: 64 << 10})
	slow, _ := wsHandshake(t, n.http, nil, nil)
	slow.c.(*net.TCPConn).SetReadBuffer(4096)
	slow.auth("slow", nil)
	fast := wsApp(t, n.http, "fast", nil)

	body := []byte(strings.Repeat("x", 8<<10))
	deadline := time.Now().Add(10 * time.Second)
	for n.Online(server.User("slow")) && time.Now().Before(deadline) {
		_, err := n.Push(ctx(t), server.User("slow"), pack.Message{URI: "/flood", Body: body})
		require.NoError(t, err)
	}
	require.False(t, n.Online(server.User("slow")), "the slow reader is still connected")
	eventually(t, func() bool { return metricValue(t, n.node, "plex_closes_total", "3002") >= 1 }, "closed as a slow consumer")

	// nobody else waited for it
	start := time.Now()
	_, err := n.Push(ctx(t), server.User("fast"), pack.Message{URI: "/ok"})
	require.NoError(t, err)
	require.Equal(t, "/ok", fast.recv().URI)
	require.Less(t, time.Since(start), 5*time.Second, "the push to fast waited behind the slow reader")
}

func TestWSAckResume(t *testing.T) {
	n := startWSNode(t, server.Config{})
	meta := map[string]string{pack.MetaAcks: "1", pack.MetaDevice: "d1"}
	p := wsApp(t, n.http, "alice", meta)
	out, err := n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/p", Body: []byte("1")}, server.Persist(0))
	require.NoError(t, err)
	m := p.recv()
	require.Equal(t, out.Seq, m.Seq)
	require.Equal(t, "1", m.Get(pack.MetaPersist))
	p.send(pack.Message{URI: pack.URIAck, Seq: m.Seq})
	p.c.Close()
	eventually(t, func() bool { return !n.Online(server.User("alice")) }, "offline")

	for i := 2; i <= 3; i++ {
		out, err := n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/p", Body: []byte(strconv.Itoa(i))}, server.Persist(0))
		require.NoError(t, err)
		require.Equal(t, 1, out.Stored)
	}
	resume := map[string]string{pack.MetaAcks: "1", pack.MetaDevice: "d1", pack.MetaResume: strconv.FormatInt(m.Seq, 10)}
	p = wsApp(t, n.http, "alice", resume)
	for i := 2; i <= 3; i++ {
		r := p.recv()
		require.Equal(t, m.Seq+int64(i-1), r.Seq)
		require.Equal(t, strconv.Itoa(i), string(r.Body))
	}
	p.send(pack.Message{URI: pack.URIAck, Seq: m.Seq + 2})
	p.send(pack.Message{URI: pack.URIHeartbeat})
	require.Equal(t, pack.URIHeartbeat, p.recv().URI, "nothing replayed twice")
}

func TestWSUpstreamAndRequests(t *testing.T) {
	n := startWSNode(t, server.Config{
		OnUpstream:     func(s *server.Session, m *pack.Message) { _ = s.Send(m) },
		RoomAuthorizer: func(*server.Session, string, bool) bool { return true },
	})
	p := wsApp(t, n.http, "alice", nil)
	p.send(pack.Message{URI: "/chat/say", Body: []byte("hello")})
	m := p.recv()
	require.Equal(t, "/chat/say", m.URI)
	require.Equal(t, "hello", string(m.Body))

	p.send(pack.Message{Seq: 7, URI: pack.URIRoomJoin, Body: []byte("lobby")})
	m = p.recv()
	require.Equal(t, pack.URIReply, m.URI)
	require.Equal(t, int64(7), m.Seq)
	require.Equal(t, []string{"alice"}, n.Members(server.Room("lobby")))

	p.send(pack.Message{Seq: 8, URI: pack.URIPush, Body: []byte(`{"all":true,"uri":"/x"}`)})
	m = p.recv()
	require.Equal(t, pack.URIError, m.URI)
	require.Equal(t, pack.CodeForbidden, pack.ErrorOf(&m).Code)
}

// A slow authenticator: messages sent right behind the auth message wait
// for it and are handled after /auth/success, in order.
func TestWSMessagesDuringAuth(t *testing.T) {
	var calls atomic.Int32
	n := startWSNode(t, server.Config{Authenticator: auth.Func(
		func(ctx context.Context, token string, _ net.Addr) (string, error) {
			calls.Add(1)
			time.Sleep(50 * time.Millisecond)
			return auth.None{}.Authenticate(ctx, token, nil)
		}),
		OnUpstream: func(s *server.Session, m *pack.Message) { _ = s.Send(m) },
	})
	p := wsDial(t, n.http)
	p.send(pack.Message{URI: pack.URIAuth, Body: []byte("alice")})
	p.send(pack.Message{URI: "/one"})
	p.send(pack.Message{URI: pack.URIHeartbeat})
	p.send(pack.Message{URI: "/two"})
	require.Equal(t, pack.URIAuthSuccess, p.recv().URI)
	require.Equal(t, "/one", p.recv().URI)
	require.Equal(t, pack.URIHeartbeat, p.recv().URI)
	require.Equal(t, "/two", p.recv().URI)
	require.Equal(t, int32(1), calls.Load())
}

func TestWSRefusedAtAccept(t *testing.T) {
	t.Run("max connections", func(t *testing.T) {
		n := startWSNode(t, server.Config{MaxConnections: 1})
		wsApp(t, n.http, "alice", nil)
		p := wsDial(t, n.http)
		p.expectClosed(pack.URIDisconnect, pack.CodeTooManyConnections)
	})
	t.Run("filter", func(t *testing.T) {
		n := startWSNode(t, server.Config{Filter: func(net.Addr) bool { return false }})
		p := wsDial(t, n.http)
		p.expectClosed(pack.URIDisconnect, pack.CodeRefused)
	})
}

func TestWSShutdownSays3000(t *testing.T) {
	srv, err := server.New(server.Config{Authenticator: auth.None{}, Logger: plog.Test(t)})
	require.NoError(t, err)
	ln := listen(t)
	served := make(chan error, 1)
	go func() { served <- srv.ServeAPI(ln) }()
	p := wsApp(t, ln.Addr().String(), "alice", nil)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	p.expectClosed(pack.URIDisconnect, pack.CodeShutdown)
	require.NoError(t, <-done)
	require.ErrorIs(t, <-served, server.ErrServerClosed)
}

// Mounted on an https server of the embedder's, the socket cannot join the
// event loop: it gets a reader goroutine and the same behaviour.
func TestWSOverEmbedderTLS(t *testing.T) {
	n := startNode(t, server.Config{
		HeartbeatInterval: 100 * time.Millisecond, HeartbeatTimeout: time.Second,
		WriteQueueBytes: 64 << 10,
	})
	hs := httptest.NewUnstartedServer(n.Handler())
	hs.EnableHTTP2 = false
	hs.StartTLS()
	defer hs.Close()
	conf := &tls.Config{InsecureSkipVerify: true}
	addr := hs.Listener.Addr().String()

	p, resp := wsHandshake(t, addr, nil, conf)
	require.NotNil(t, p, "handshake answered %s", resp.Status)
	p.auth("alice", nil)
	_, err := n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/tls", Body: []byte("t")})
	require.NoError(t, err)
	require.Equal(t, "/tls", p.recv().URI)
	require.NoError(t, p.writeFrame(0x9, []byte("p")))
	op, _, err := p.readFrame(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, byte(0xA), op)
	p.expectClosed(pack.URIDisconnect, pack.CodeHeartbeatTimeout)
	eventually(t, func() bool { return !n.Online(server.User("alice")) }, "offline")

	// a slow reader over TLS is dropped too
	slow, _ := wsHandshake(t, addr, nil, conf)
	slow.auth("slow", nil)
	body := []byte(strings.Repeat("x", 8<<10))
	deadline := time.Now().Add(10 * time.Second)
	for n.Online(server.User("slow")) && time.Now().Before(deadline) {
		_, err := n.Push(ctx(t), server.User("slow"), pack.Message{URI: "/flood", Body: body})
		require.NoError(t, err)
	}
	require.False(t, n.Online(server.User("slow")))
}

func TestWSStatsAndMetrics(t *testing.T) {
	n := startWSNode(t, server.Config{})
	wsApp(t, n.http, "alice", nil)
	wsApp(t, n.http, "bob", nil)
	st := n.Stats()
	require.Equal(t, 2, st.Connections)
	require.Equal(t, 2, st.Users)
	b, _ := json.Marshal(st)
	require.Contains(t, string(b), `"connections":2`)
	require.GreaterOrEqual(t, metricValue(t, n.node, "plex_frames_in_total", ""), float64(2))
	// frames out are counted after the write returns: the peer may have
	// read the frame a moment before
	eventually(t, func() bool { return metricValue(t, n.node, "plex_frames_out_total", "") >= 2 }, "frames out counted")
}
