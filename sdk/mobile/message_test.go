package plexmobile_test

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	plexmobile "github.com/plexpush/plex/sdk/mobile"
	"github.com/plexpush/plex/server"
)

func allowMessages(string, string) bool { return true }

// online connects a Client as uid (device device) to addrs and waits until
// it is online.
func online(t *testing.T, n *node, addrs, uid, device string) (*plexmobile.Client, *recorder) {
	t.Helper()
	cfg := config(n, uid)
	cfg.Addrs, cfg.Device = addrs, device
	c, r := newClient(t, cfg)
	require.NoError(t, c.Connect())
	r.waitState(t, plexmobile.StateOnline)
	return c, r
}

// nextMessage returns the next message and its meta.
func (r *recorder) nextMessage(t *testing.T) (msg, *plexmobile.Meta) {
	t.Helper()
	m := r.nextMsg(t)
	return m, <-r.metas
}

// Message and MessageRoom return the node's result; the recipients get the
// message with the meta the node sets.
func TestMessageToAUserAndARoom(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{MessagePolicy: allowMessages})
	for _, uid := range []string{"alice", "bob", "carol"} {
		require.NoError(t, n.Join(server.Room("team"), uid))
	}
	alice, ar := online(t, n, n.Addr, "alice", "phone")
	_, br := online(t, n, n.Addr, "bob", "b")

	res, err := alice.Message("bob", []byte("hi bob"), "c1")
	require.NoError(t, err)
	require.NotEmpty(t, res.MessageID)
	require.Positive(t, res.Seq)
	require.Equal(t, plexmobile.MessageResult{MessageID: res.MessageID, Seq: res.Seq, Stored: 1, Delivered: 1}, *res)
	m, meta := br.nextMessage(t)
	require.Equal(t, msg{"/message", "hi bob", res.Seq}, m)
	require.Equal(t, "alice", meta.Get("from"))
	require.Equal(t, res.MessageID, meta.Get("id"))
	require.Equal(t, "c1", meta.Get("conversation"))
	require.False(t, meta.Has("room"))

	res, err = alice.MessageRoom("team", []byte("lunch?"), "")
	require.NoError(t, err)
	require.Positive(t, res.Seq, "alice is a member: her own copy")
	require.Equal(t, plexmobile.MessageResult{MessageID: res.MessageID, Seq: res.Seq, Stored: 3, Delivered: 1}, *res,
		"a copy per member; delivered to bob (carol is offline, the sending connection is not counted)")
	m, meta = br.nextMessage(t)
	require.Equal(t, "lunch?", m.body)
	require.Equal(t, "team", meta.Get("room"))
	require.Equal(t, "alice", meta.Get("from"))
	require.Equal(t, res.MessageID, meta.Get("id"))
	ar.noMsg(t, 100*time.Millisecond)
}

// Refusals say "message refused" with the node's code, which ErrorCode
// reads; what is not sent says why.
func TestMessageRefused(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{MessagePolicy: func(_, to string) bool { return to != "mallory" }})
	require.NoError(t, n.Join(server.Room("others"), "bob"))

	idle, _ := newClient(t, config(n, "alice"))
	_, err := idle.Message("bob", []byte("x"), "")
	require.ErrorContains(t, err, "plexmobile: not connected")

	alice, _ := online(t, n, n.Addr, "alice", "phone")
	for _, tc := range []struct {
		name string
		send func() (*plexmobile.MessageResult, error)
		code int64
	}{
		{"the policy says no", func() (*plexmobile.MessageResult, error) { return alice.Message("mallory", []byte("x"), "") }, 4003},
		{"not a member", func() (*plexmobile.MessageResult, error) { return alice.MessageRoom("others", []byte("x"), "") }, 4003},
		{"no recipient", func() (*plexmobile.MessageResult, error) { return alice.Message("", []byte("x"), "") }, 4004},
		{"body not UTF-8", func() (*plexmobile.MessageResult, error) { return alice.Message("bob", []byte{0xff}, "") }, 4004},
	} {
		res, err := tc.send()
		require.Nil(t, res, tc.name)
		require.Error(t, err, tc.name)
		require.True(t, strings.HasPrefix(err.Error(), "plexmobile: message refused: code "), "%s: %v", tc.name, err)
		require.Equal(t, tc.code, plexmobile.ErrorCode(err.Error()), "%s: %v", tc.name, err)
	}

	off := startNode(t, server.Config{}) // messaging is off unless configured
	c, _ := online(t, off, off.Addr, "alice", "phone")
	_, err = c.Message("bob", []byte("x"), "")
	require.EqualValues(t, 4003, plexmobile.ErrorCode(err.Error()), "%v", err)

	require.NoError(t, alice.Close())
	_, err = alice.Message("bob", []byte("x"), "")
	require.ErrorContains(t, err, "plexmobile: client closed")
}

func TestErrorCode(t *testing.T) {
	for msg, want := range map[string]int64{
		"plexmobile: message refused: code 4003: forbidden":                     4003,
		"plexmobile: outcome unknown: code 3008: store did not confirm":         3008,
		"plexmobile: outcome unknown: client: request written, outcome unknown": 0,
		"plexmobile: client closed":                                             0,
		"plexmobile: send failed: code 4004":                                    0,
		"":                                                                      0,
	} {
		require.Equal(t, want, plexmobile.ErrorCode(msg), msg)
	}
}

// A node shutting down answers every message it executed before its
// /disconnect (protocol §13.4): the Client sends the unanswered ones to
// the next node, once, and Message returns that node's answer. Node a holds
// the first message in its policy while it begins to shut down, so the two
// sent after it are certainly unanswered there. bob has a device on each
// node (no cluster): the phone gets what a executed, the laptop what b
// executed, and no message reaches both or neither.
func TestMessageDrainSendsTheUnansweredToTheNextNode(t *testing.T) {
	leakCheck(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	a := startNode(t, server.Config{NodeID: "a", MessageRate: 1000, MessagePolicy: func(string, string) bool {
		once.Do(func() {
			close(entered)
			<-release
		})
		return true
	}})
	b := startNode(t, server.Config{NodeID: "b", MessageRate: 1000, MessagePolicy: allowMessages})
	_, phone := online(t, a, a.Addr, "bob", "phone")
	_, laptop := online(t, b, b.Addr, "bob", "laptop")
	alice, ar := online(t, a, a.Addr+","+b.Addr, "alice", "d1")

	type result struct {
		res *plexmobile.MessageResult
		err error
	}
	results := map[string]chan result{}
	send := func(body string) {
		ch := make(chan result, 1)
		results[body] = ch
		go func() {
			res, err := alice.Message("bob", []byte(body), "")
			ch <- result{res, err}
		}()
	}
	send("m1")
	select {
	case <-entered:
	case <-time.After(waitFor):
		t.Fatal("m1 did not reach node a")
	}
	send("m2")
	send("m3")
	time.Sleep(200 * time.Millisecond) // m2 and m3 are written (or still queued: not sent either way)

	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		a.Stop()
	}()
	require.Eventually(t, func() bool { // a stopped accepting: its sessions are draining
		c, err := net.DialTimeout("tcp", a.Addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, waitFor, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	close(release)
	<-stopped

	got := map[string]result{}
	for body, ch := range results {
		select {
		case r := <-ch:
			require.NoError(t, r.err, body)
			got[body] = r
		case <-time.After(waitFor):
			t.Fatalf("%s: no answer within %v", body, waitFor)
		}
	}
	require.True(t, strings.HasPrefix(got["m1"].res.MessageID, "a-"), "m1 executed by a: %+v", got["m1"].res)
	for _, body := range []string{"m2", "m3"} {
		require.True(t, strings.HasPrefix(got[body].res.MessageID, "b-"), "%s sent again to b: %+v", body, got[body].res)
		require.EqualValues(t, 1, got[body].res.Delivered, body)
	}
	require.Equal(t, "m1", phone.nextMsg(t).body)
	var onB []string
	for range 2 {
		onB = append(onB, laptop.nextMsg(t).body)
	}
	require.ElementsMatch(t, []string{"m2", "m3"}, onB)
	phone.noMsg(t, 100*time.Millisecond)
	laptop.noMsg(t, 100*time.Millisecond)
	ar.noMsg(t, 0)
}

// fakeNode is a scripted node on loopback: each connection runs the next
// script (JSON, big-endian).
type fakeNode struct {
	ln   net.Listener
	wg   sync.WaitGroup
	quit chan struct{}
}

type fakeConn struct {
	t *testing.T
	c net.Conn
	r *pack.Reader
	w *pack.Writer
}

func (f *fakeConn) send(m pack.Message) {
	f.t.Helper()
	require.NoError(f.t, f.w.WriteMessage(&m))
	require.NoError(f.t, f.w.Flush())
}

// recv returns the next frame that is not a heartbeat or an ack.
func (f *fakeConn) recv() pack.Message {
	f.t.Helper()
	for {
		_ = f.c.SetReadDeadline(time.Now().Add(waitFor))
		var m pack.Message
		require.NoError(f.t, f.r.ReadMessage(&m))
		if m.URI != pack.URIHeartbeat && m.URI != pack.URIAck {
			return m
		}
	}
}

// waitClose reads until the client closes the connection.
func (f *fakeConn) waitClose() {
	_ = f.c.SetReadDeadline(time.Now().Add(waitFor))
	var m pack.Message
	for f.r.ReadMessage(&m) == nil {
	}
}

// login reads /auth/server and answers it with facts.
func (f *fakeConn) login(facts string) {
	f.t.Helper()
	require.Equal(f.t, pack.URIAuth, f.recv().URI)
	f.send(pack.Message{URI: pack.URIAuthSuccess, Body: []byte(facts)})
}

func startFakeNode(t *testing.T, scripts ...func(*fakeConn)) *fakeNode {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &fakeNode{ln: ln, quit: make(chan struct{})}
	f.wg.Go(func() {
		for _, script := range scripts {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.wg.Go(func() {
				defer c.Close()
				script(&fakeConn{t: t, c: c, r: pack.NewReader(c, pack.BigEndian, pack.JSON, 0), w: pack.NewWriter(c, pack.BigEndian, pack.JSON)})
			})
		}
		<-f.quit // later attempts wait in the listen backlog
	})
	t.Cleanup(func() {
		close(f.quit)
		ln.Close()
		f.wg.Wait()
	})
	return f
}

const facts = `{"uid":"alice","conn":"c1","node":"fake","heartbeat_ms":30000,"timeout_ms":75000}`
const drainFacts = `{"uid":"alice","conn":"c1","node":"fake","heartbeat_ms":30000,"timeout_ms":75000,"drain":true}`

// The message sent again after a draining node's /disconnect keeps its
// seq (protocol §13.6); one kept for resending fails as not sent when the
// Client closes; without drain, a message unanswered at the /disconnect
// may have been executed: outcome unknown.
func TestMessageDrainKeepsTheSeqAndFailsSafely(t *testing.T) {
	leakCheck(t)
	t.Run("resent with its seq", func(t *testing.T) {
		frames := make(chan pack.Message, 2)
		f := startFakeNode(t, func(c *fakeConn) {
			c.login(drainFacts)
			frames <- c.recv()
			c.send(pack.ErrorMessage(pack.URIDisconnect, 0, pack.CodeShutdown, "shutting down"))
		}, func(c *fakeConn) {
			c.login(drainFacts)
			again := c.recv()
			frames <- again
			c.send(pack.Message{Seq: again.Seq, URI: pack.URIReply, Body: []byte(`{"id":"n2-1","seq":9,"delivered":1}`)})
			c.waitClose()
		})
		cfg := &plexmobile.Config{Addrs: f.ln.Addr().String(), Token: "alice", BackoffMinMs: 20, BackoffMaxMs: 50}
		alice, _ := newClient(t, cfg)
		require.NoError(t, alice.Connect())
		res, err := alice.Message("bob", []byte("hi"), "c9")
		require.NoError(t, err)
		require.Equal(t, plexmobile.MessageResult{MessageID: "n2-1", Seq: 9, Stored: 1, Delivered: 1}, *res)
		first, again := <-frames, <-frames
		require.Equal(t, first, again, "the same frame, seq included")
		require.Equal(t, pack.URIMessage, first.URI)
		require.JSONEq(t, `{"to":"bob","body":"hi","conversation":"c9"}`, string(first.Body))
	})
	t.Run("closed before resending: not sent", func(t *testing.T) {
		sent := make(chan struct{})
		f := startFakeNode(t, func(c *fakeConn) {
			c.login(drainFacts)
			require.Equal(t, pack.URIMessage, c.recv().URI)
			c.send(pack.ErrorMessage(pack.URIDisconnect, 0, pack.CodeShutdown, "shutting down"))
			close(sent)
		}) // the next attempt is never answered
		cfg := &plexmobile.Config{Addrs: f.ln.Addr().String(), Token: "alice", BackoffMinMs: 20, BackoffMaxMs: 50}
		alice, r := newClient(t, cfg)
		require.NoError(t, alice.Connect())
		done := make(chan error, 1)
		go func() {
			_, err := alice.MessageRoom("team", []byte("hi"), "")
			done <- err
		}()
		<-sent
		r.waitState(t, plexmobile.StateReconnecting)
		require.NoError(t, alice.Close())
		err := <-done
		require.ErrorContains(t, err, "plexmobile: client closed", "never executed: safe to send again")
		require.Zero(t, plexmobile.ErrorCode(err.Error()))
	})
	t.Run("without drain: outcome unknown", func(t *testing.T) {
		f := startFakeNode(t, func(c *fakeConn) {
			c.login(facts)
			require.Equal(t, pack.URIMessage, c.recv().URI)
			c.send(pack.ErrorMessage(pack.URIDisconnect, 0, pack.CodeShutdown, "shutting down"))
		})
		cfg := &plexmobile.Config{Addrs: f.ln.Addr().String(), Token: "alice", BackoffMinMs: 20, BackoffMaxMs: 50}
		alice, _ := newClient(t, cfg)
		require.NoError(t, alice.Connect())
		_, err := alice.Message("bob", []byte("hi"), "")
		require.Error(t, err)
		require.True(t, strings.HasPrefix(err.Error(), "plexmobile: outcome unknown: "), "%v", err)
		require.Zero(t, plexmobile.ErrorCode(err.Error()))
	})
}
