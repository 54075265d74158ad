package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

func ctx(t *testing.T) context.Context { return t.Context() }

func TestPushToUserAllDevices(t *testing.T) {
	n := startNode(t, server.Config{})
	phone := app(t, n.Addr, "alice", map[string]string{pack.MetaDevice: "phone"})
	laptop := app(t, n.Addr, "alice", map[string]string{pack.MetaDevice: "laptop"})
	other := app(t, n.Addr, "bob", nil)
	out, err := n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/chat", Body: []byte("hi")})
	require.NoError(t, err)
	require.Equal(t, server.Outcome{Delivered: 2}, out)
	for _, p := range []*peer{phone, laptop} {
		m := p.recv()
		require.Equal(t, "/chat", m.URI)
		require.Equal(t, "hi", string(m.Body))
		require.Zero(t, m.Seq, "transient pushes carry no seq")
	}
	_, err = other.tryRecv(100 * time.Millisecond)
	require.Error(t, err, "bob must not get alice's push")
}

func TestPushOutcomes(t *testing.T) {
	n := startNode(t, server.Config{})
	app(t, n.Addr, "alice", nil)
	app(t, n.Addr, "bob", nil)
	out, err := n.Push(ctx(t), server.Users("alice", "bob", "carol"), pack.Message{URI: "/x"})
	require.NoError(t, err)
	require.Equal(t, server.Outcome{Delivered: 2, Offline: 1}, out)
	out, err = n.Push(ctx(t), server.User("nobody"), pack.Message{URI: "/x"})
	require.NoError(t, err)
	require.Equal(t, server.Outcome{Offline: 1}, out, "a push that reached nobody says so")
	out, err = n.Push(ctx(t), server.Everyone(), pack.Message{URI: "/x"})
	require.NoError(t, err)
	require.Equal(t, 2, out.Delivered)
}

func TestPushRejectsBadRequests(t *testing.T) {
	n := startNode(t, server.Config{MaxFrame: 1024})
	for _, tc := range []struct {
		to   server.Target
		m    pack.Message
		opts []server.PushOption
		err  error
	}{
		{server.Target{}, pack.Message{URI: "/x"}, nil, server.ErrBadTarget},
		{server.Target{UID: "a", All: true}, pack.Message{URI: "/x"}, nil, server.ErrBadTarget},
		{server.User("a"), pack.Message{}, nil, server.ErrNoURI},
		{server.User("a"), pack.Message{URI: pack.URIAuthSuccess}, nil, server.ErrReservedURI},
		{server.User("a"), pack.Message{URI: "/x", Body: make([]byte, 2000)}, nil, server.ErrBodyTooLarge},
		{server.User("a"), pack.Message{URI: "/x", Body: []byte{0xff}}, nil, pack.ErrInvalidUTF8},
		{server.Room("r"), pack.Message{URI: "/x"}, []server.PushOption{server.Persist(0)}, server.ErrNotPersistable},
	} {
		_, err := n.Push(ctx(t), tc.to, tc.m, tc.opts...)
		require.ErrorIs(t, err, tc.err, "%+v", tc)
	}
}

func TestRooms(t *testing.T) {
	n := startNode(t, server.Config{RoomAuthorizer: func(s *server.Session, room string, join bool) bool {
		return room == "open"
	}})
	a := app(t, n.Addr, "alice", nil)
	b := app(t, n.Addr, "bob", nil)
	c := app(t, n.Addr, "carol", nil)
	n.Join(server.Room("team"), "alice")
	n.Join(server.Room("team"), "bob")
	out, err := n.Push(ctx(t), server.Room("team"), pack.Message{URI: "/room", Body: []byte("standup")})
	require.NoError(t, err)
	require.Equal(t, 2, out.Delivered)
	require.Equal(t, "standup", string(a.recv().Body))
	require.Equal(t, "standup", string(b.recv().Body))
	n.Leave(server.Room("team"), "bob")
	require.Equal(t, []string{"alice"}, n.Members(server.Room("team")))

	// clients manage rooms only where the authorizer allows
	c.send(pack.Message{Seq: 1, URI: pack.URIRoomJoin, Body: []byte("team")})
	m := c.recv()
	require.Equal(t, pack.URIError, m.URI)
	require.Equal(t, pack.CodeForbidden, pack.ErrorOf(&m).Code)
	c.send(pack.Message{Seq: 2, URI: pack.URIRoomJoin, Body: []byte("open")})
	m = c.recv()
	require.Equal(t, pack.URIReply, m.URI)
	require.Equal(t, int64(2), m.Seq)
	require.Equal(t, []string{"carol"}, n.Members(server.Room("open")))
}

func TestLegacyPushClientReachesOriginalApp(t *testing.T) {
	// An app and a push client written for the original plex, unchanged.
	n := startNode(t, server.Config{})
	a := app(t, n.Addr, "alice", nil)
	p := pusher(t, n.Addr)
	body, _ := json.Marshal(map[string]string{"uid": "alice", "uri": "/news", "body": "hello"})
	p.send(pack.Message{URI: pack.URILegacyPush, Body: body})
	m := a.recv()
	require.Equal(t, pack.Message{URI: "/news", Body: []byte("hello")}, m)
}

func TestInnerPushRequestReply(t *testing.T) {
	n := startNode(t, server.Config{})
	a := app(t, n.Addr, "alice", nil)
	p := pusher(t, n.Addr)
	out, cerr := p.push(7, server.PushRequest{UID: "alice", URI: "/x", Body: "1"})
	require.Nil(t, cerr)
	require.Equal(t, server.Outcome{Delivered: 1}, out)
	require.Equal(t, "1", string(a.recv().Body))
	_, cerr = p.push(8, server.PushRequest{URI: "/x"})
	require.NotNil(t, cerr)
	require.Equal(t, pack.CodeBadRequest, cerr.Code)
	p.send(pack.Message{Seq: 9, URI: pack.URIPush, Body: []byte("{not json")})
	m := p.recv()
	require.Equal(t, pack.URIError, m.URI)
	require.Equal(t, int64(9), m.Seq)
}

func TestPipelinedPushesCoalesce(t *testing.T) {
	// 500 pushes to one user in one write from the push client: the app
	// gets them in order, and the node writes them with few syscalls.
	n := startNode(t, server.Config{})
	a := app(t, n.Addr, "alice", nil)
	p := pusher(t, n.Addr)
	const count = 500
	for i := range count {
		body, _ := json.Marshal(server.PushRequest{UID: "alice", URI: "/n", Body: strconv.Itoa(i)})
		require.NoError(t, p.w.WriteMessage(&pack.Message{Seq: int64(i + 1), URI: pack.URIPush, Body: body}))
	}
	require.NoError(t, p.w.Flush())
	for i := range count {
		require.Equal(t, strconv.Itoa(i), string(a.recv().Body))
	}
	for i := range count {
		require.Equal(t, int64(i+1), p.recv().Seq)
	}
}

func TestOnlineOfflineHooksOncePerTransition(t *testing.T) {
	var mu sync.Mutex
	var events []string
	n := startNode(t, server.Config{
		OnOnline:  func(uid string) { mu.Lock(); events = append(events, "on:"+uid); mu.Unlock() },
		OnOffline: func(uid string) { mu.Lock(); events = append(events, "off:"+uid); mu.Unlock() },
	})
	get := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(events) }
	d1 := app(t, n.Addr, "alice", map[string]string{pack.MetaDevice: "1"})
	d2 := app(t, n.Addr, "alice", map[string]string{pack.MetaDevice: "2"}) // duplicate login
	eventually(t, func() bool { return len(get()) == 1 }, "one online event")
	d1.c.Close()
	time.Sleep(100 * time.Millisecond)
	require.Equal(t, []string{"on:alice"}, get(), "not offline while a device remains")
	require.True(t, n.Online(server.User("alice")))
	d2.c.Close()
	eventually(t, func() bool { return len(get()) == 2 }, "offline after the last")
	require.Equal(t, []string{"on:alice", "off:alice"}, get())
	require.False(t, n.Online(server.User("alice")))
}

func TestNoHooksNoCrash(t *testing.T) {
	// Original defect: a crash when no online-status callback was set.
	n := startNode(t, server.Config{})
	a := app(t, n.Addr, "alice", nil)
	a.send(pack.Message{URI: "/upstream", Body: []byte("dropped")})
	a.c.Close()
	eventually(t, func() bool { return !n.Online(server.User("alice")) }, "offline")
	_, err := n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/x"})
	require.NoError(t, err)
}

// TestOnePerDeviceReplaces: by default a newer login of the same uid and
// device replaces the older with /disconnect 4002 (protocol §9).
func TestOnePerDeviceReplaces(t *testing.T) {
	n := startNode(t, server.Config{})
	old := app(t, n.Addr, "alice", map[string]string{pack.MetaDevice: "phone"})
	fresh := app(t, n.Addr, "alice", map[string]string{pack.MetaDevice: "phone"})
	old.expectClosed(pack.URIDisconnect, pack.CodeReplaced)
	out, err := n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/x"})
	require.NoError(t, err)
	require.Equal(t, 1, out.Delivered, "presence not corrupted by the duplicate login")
	require.Equal(t, "/x", fresh.recv().URI)
}

// TestDeviceDuplicatesKeepsBoth: with Config.DeviceDuplicates, a second
// login of the same device is kept beside the first; logins without a
// device id are never replaced either way.
func TestDeviceDuplicatesKeepsBoth(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    server.Config
		device string
	}{
		{"device duplicates", server.Config{DeviceDuplicates: true}, "phone"},
		{"no device id", server.Config{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, tc.cfg)
			meta := map[string]string{}
			if tc.device != "" {
				meta[pack.MetaDevice] = tc.device
			}
			a := app(t, n.Addr, "alice", meta)
			b := app(t, n.Addr, "alice", meta)
			out, err := n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/x"})
			require.NoError(t, err)
			require.Equal(t, 2, out.Delivered)
			require.Equal(t, "/x", a.recvSkipHeartbeat().URI)
			require.Equal(t, "/x", b.recvSkipHeartbeat().URI)
		})
	}
}

func TestUpstreamHandler(t *testing.T) {
	got := make(chan string, 1)
	n := startNode(t, server.Config{OnUpstream: func(s *server.Session, m *pack.Message) {
		got <- s.UID() + " " + m.URI + " " + string(m.Body)
		_ = s.Send(&pack.Message{URI: "/pong"})
	}})
	a := app(t, n.Addr, "alice", nil)
	a.send(pack.Message{URI: "/ping", Body: []byte("x")})
	require.Equal(t, "alice /ping x", <-got)
	require.Equal(t, "/pong", a.recv().URI)
}

func TestLittleEndianAndProtobuf(t *testing.T) {
	// Original defect: LittleEndian was ignored. Here the header bytes
	// really change, and protobuf apps share the node with JSON apps.
	n := startNode(t, server.Config{ByteOrder: pack.LittleEndian})
	j := dialWith(t, n.Addr, pack.LittleEndian, pack.JSON)
	j.auth("alice", nil)
	pb := dialWith(t, n.Addr, pack.LittleEndian, pack.Protobuf)
	pb.auth("bob", nil)
	// a big-endian peer's header declares a huge length to this node
	big := dialWith(t, n.Addr, pack.LittleEndian, pack.JSON)
	big.sendRaw(append(header(uint32(len(`{"uri":"/auth/server","body":"x"}`))), `{"uri":"/auth/server","body":"x"}`...))
	big.expectClosed(pack.URIDisconnect, pack.CodeFrameTooLarge)
	_, err := n.Push(ctx(t), server.Users("alice", "bob"), pack.Message{URI: "/x", Body: []byte("le")})
	require.NoError(t, err)
	require.Equal(t, "le", string(j.recv().Body))
	require.Equal(t, "le", string(pb.recv().Body))
}

func TestPersistentPushAckAndResume(t *testing.T) {
	n := startNode(t, server.Config{})
	acks := map[string]string{pack.MetaAcks: "1", pack.MetaDevice: "phone"}
	a := app(t, n.Addr, "alice", acks)
	for i := 1; i <= 3; i++ {
		out, err := n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/m", Body: []byte(strconv.Itoa(i))}, server.Persist(time.Minute))
		require.NoError(t, err)
		require.Equal(t, server.Outcome{Delivered: 1, Stored: 1, Seq: int64(i)}, out)
		m := a.recv()
		require.Equal(t, int64(i), m.Seq)
		require.Equal(t, "1", m.Get(pack.MetaPersist))
		require.NotEmpty(t, m.Get(pack.MetaID))
		require.NotEmpty(t, m.Get(pack.MetaTime))
	}
	a.send(pack.Message{URI: pack.URIAck, Seq: 2})
	a.send(pack.Message{URI: pack.URIHeartbeat}) // the ack is processed before this echo
	require.Equal(t, pack.URIHeartbeat, a.recv().URI)
	a.c.Close()
	eventually(t, func() bool { return !n.Online(server.User("alice")) }, "offline")
	// while offline
	out, err := n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/m", Body: []byte("4")}, server.Persist(time.Minute))
	require.NoError(t, err)
	require.Equal(t, server.Outcome{Stored: 1, Offline: 1, Seq: 4}, out)
	// reconnect resuming from 2: gets 3 and 4, in order, exactly once
	resume := map[string]string{pack.MetaAcks: "1", pack.MetaDevice: "phone", pack.MetaResume: "2"}
	b := app(t, n.Addr, "alice", resume)
	require.Equal(t, int64(3), b.recv().Seq)
	require.Equal(t, int64(4), b.recv().Seq)
	_, err = b.tryRecv(100 * time.Millisecond)
	require.Error(t, err)
}

func TestPersistentPushToOriginalAppOnce(t *testing.T) {
	// Apps that do not ack get each persistent push once: when written,
	// including pushes stored while they were offline.
	n := startNode(t, server.Config{})
	_, err := n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/m", Body: []byte("offline")}, server.Persist(0))
	require.NoError(t, err)
	a := app(t, n.Addr, "alice", nil)
	require.Equal(t, "offline", string(a.recv().Body))
	_, err = n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/m", Body: []byte("online")}, server.Persist(0))
	require.NoError(t, err)
	require.Equal(t, "online", string(a.recv().Body))
	a.c.Close()
	eventually(t, func() bool { return !n.Online(server.User("alice")) }, "offline")
	b := app(t, n.Addr, "alice", nil)
	_, err = b.tryRecv(150 * time.Millisecond)
	require.Error(t, err, "nothing is delivered twice")
}

func TestMultiDeviceAcksAreIndependent(t *testing.T) {
	n := startNode(t, server.Config{})
	meta := func(dev, resume string) map[string]string {
		m := map[string]string{pack.MetaAcks: "1", pack.MetaDevice: dev}
		if resume != "" {
			m[pack.MetaResume] = resume
		}
		return m
	}
	phone := app(t, n.Addr, "alice", meta("phone", ""))
	tablet := app(t, n.Addr, "alice", meta("tablet", ""))
	_, err := n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/m"}, server.Persist(0))
	require.NoError(t, err)
	require.Equal(t, int64(1), phone.recv().Seq)
	require.Equal(t, int64(1), tablet.recv().Seq)
	tablet.send(pack.Message{URI: pack.URIAck, Seq: 1}) // tablet acks; phone never does
	phone.send(pack.Message{URI: pack.URIAck, Seq: 0})
	tablet.send(pack.Message{URI: pack.URIHeartbeat})
	require.Equal(t, pack.URIHeartbeat, tablet.recv().URI)
	phone.c.Close()
	tablet.c.Close()
	eventually(t, func() bool { return !n.Online(server.User("alice")) }, "offline")
	// the phone resumes from 0 and still gets its copy
	p2 := app(t, n.Addr, "alice", meta("phone", "0"))
	require.Equal(t, int64(1), p2.recv().Seq)
}

func TestConcurrentPersistentPushesKeepOrder(t *testing.T) {
	n := startNode(t, server.Config{})
	a := app(t, n.Addr, "alice", map[string]string{pack.MetaAcks: "1"})
	const pushers, each = 8, 200
	var wg sync.WaitGroup
	for range pushers {
		wg.Go(func() {
			for range each {
				_, err := n.Push(context.Background(), server.User("alice"), pack.Message{URI: "/m"}, server.Persist(0))
				if err != nil {
					panic(err)
				}
			}
		})
	}
	for want := int64(1); want <= pushers*each; want++ {
		m := a.recv()
		require.Equal(t, want, m.Seq, "seqs reach the app in order")
	}
	wg.Wait()
}

func TestSlowReaderDoesNotBlockOthers(t *testing.T) {
	n := startNode(t, server.Config{WriteQueueBytes: 256 << 10})
	slow := app(t, n.Addr, "slow", nil) // never reads from here on
	fast := app(t, n.Addr, "fast", nil)
	body := []byte(fmt.Sprintf("%01000d", 0))
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; n.Online(server.User("slow")); i++ {
		require.True(t, time.Now().Before(deadline), "slow consumer never dropped")
		_, err := n.Push(ctx(t), server.Everyone(), pack.Message{URI: "/b", Body: body})
		require.NoError(t, err)
		m := fast.recv() // the fast reader keeps getting every push meanwhile
		require.Equal(t, "/b", m.URI)
	}
	_ = slow
	mf := metricValue(t, n, "plex_closes_total", "3002")
	require.Equal(t, 1.0, mf)
}

func TestShutdownTellsEveryoneToReconnect(t *testing.T) {
	srv, err := server.New(server.Config{Authenticator: nilAuthOK{}, InnerSecret: secret})
	require.NoError(t, err)
	n := &node{Server: srv}
	ln := listen(t)
	n.Addr = ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	a := app(t, n.Addr, "alice", nil)
	b := pusher(t, n.Addr)
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, srv.Shutdown(sctx))
	require.ErrorIs(t, <-done, server.ErrServerClosed)
	for _, p := range []*peer{a, b} {
		m := p.expectClosed(pack.URIDisconnect, pack.CodeShutdown)
		require.True(t, pack.ErrorOf(&m).Code.Reconnect())
	}
	_, err = srv.Push(ctx(t), server.User("alice"), pack.Message{URI: "/x"})
	require.NoError(t, err)
	require.ErrorIs(t, srv.Serve(listen(t)), server.ErrServerClosed)
}

func TestSeqContinuesAboveResumeAfterStoreLoss(t *testing.T) {
	// A node restarted with the memory store forgot its seqs; an app that
	// resumes from 3 must still get new pushes (seq 4, not 1 again).
	n := startNode(t, server.Config{})
	a := app(t, n.Addr, "alice", map[string]string{pack.MetaAcks: "1", pack.MetaResume: "3"})
	out, err := n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/m"}, server.Persist(0))
	require.NoError(t, err)
	require.Equal(t, int64(4), out.Seq)
	require.Equal(t, int64(4), a.recv().Seq)
}
