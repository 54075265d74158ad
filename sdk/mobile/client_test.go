package plexmobile_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/pack"
	plexmobile "github.com/plexpush/plex/sdk/mobile"
	"github.com/plexpush/plex/server"
)

func TestConnectReceiveSendClose(t *testing.T) {
	leakCheck(t)
	n := startNode(t, echo(server.Config{}))
	c, r := newClient(t, config(n, "alice"))
	require.EqualValues(t, plexmobile.StateIdle, c.State())

	require.NoError(t, c.Connect())
	require.NoError(t, c.Connect(), "a second Connect does nothing")
	r.expectStates(t, plexmobile.StateConnecting, plexmobile.StateOnline)
	require.EqualValues(t, plexmobile.StateOnline, c.State())

	out := n.PushText("alice", "/news", "hello", false)
	require.Equal(t, 1, out.Delivered)
	require.Equal(t, msg{"/news", "hello", 0}, r.nextMsg(t), "a transient push has seq 0")

	require.NoError(t, c.Send("/up", []byte("ping")))
	require.Equal(t, msg{"/up", "ping", 0}, r.nextMsg(t), "the node's upstream handler echoes")

	require.NoError(t, c.Close())
	require.Equal(t, stateEv{plexmobile.StateClosed, 0, "", 0}, r.nextState(t))
	require.EqualValues(t, plexmobile.StateClosed, c.State())
	require.NoError(t, c.Close(), "Close twice")
	err := c.Send("/up", nil)
	require.ErrorContains(t, err, "plexmobile: client closed")
	require.ErrorContains(t, c.Connect(), "plexmobile: client closed")
	r.noState(t, 100*time.Millisecond)
}

func TestAuthFailedStopsForGood(t *testing.T) {
	leakCheck(t)
	var attempts atomic.Int32
	n := startNode(t, server.Config{Authenticator: countingNone{&attempts}})
	c, r := newClient(t, config(n, "bad token!"))
	require.NoError(t, c.Connect())
	r.expectStates(t, plexmobile.StateConnecting)
	s := r.nextState(t)
	require.EqualValues(t, plexmobile.StateClosed, s.state, "%v", s)
	require.EqualValues(t, pack.CodeAuthFailed, s.code)
	require.NotEmpty(t, s.reason)
	require.EqualValues(t, plexmobile.StateClosed, c.State())

	r.noState(t, 500*time.Millisecond) // backoff is 20–200 ms: a retry would show
	require.EqualValues(t, 1, attempts.Load(), "refused credentials are not retried")
	err := c.Connect()
	require.ErrorContains(t, err, "plexmobile: client closed")
	require.ErrorContains(t, err, "4001")
	require.ErrorContains(t, c.Send("/up", nil), "plexmobile: client closed")
	require.NoError(t, c.Close())
	r.noState(t, 100*time.Millisecond) // closed 4001 was the last event
}

// countingNone is auth.None (a LocalAuthenticator: it runs on the node's
// read path) that counts its calls.
type countingNone struct{ n *atomic.Int32 }

func (c countingNone) Authenticate(ctx context.Context, token string, remote net.Addr) (string, error) {
	c.n.Add(1)
	return auth.None{}.Authenticate(ctx, token, remote)
}

func (countingNone) Local() bool { return true }

// The node goes away and comes back on the same address with its store:
// the Client reports the loss with the node's code (reconnecting), reconnects by itself,
// and resumes: what it acked is not delivered again, new pushes arrive.
func TestReconnectAndResume(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	c, r := newClient(t, config(n, "alice"))
	require.NoError(t, c.Connect())
	r.waitState(t, plexmobile.StateOnline)

	var seqs []int64
	for _, body := range []string{"p1", "p2", "p3"} {
		out := n.PushText("alice", "/p", body, true)
		require.Equal(t, 1, out.Stored)
		seqs = append(seqs, out.Seq)
	}
	for i, body := range []string{"p1", "p2", "p3"} {
		require.Equal(t, msg{"/p", body, seqs[i]}, r.nextMsg(t))
	}
	held := seqs[2]
	require.Eventually(t, func() bool { return c.LastSeq() == held }, waitFor, 5*time.Millisecond)
	require.Eventually(t, func() bool { // the cumulative ack reached the node
		cur, err := n.Store.Cursor(context.Background(), "alice", "d1")
		return err == nil && cur == held
	}, waitFor, 5*time.Millisecond)

	n.Restart()
	s := r.nextState(t)
	require.EqualValues(t, plexmobile.StateReconnecting, s.state, "%v", s)
	require.EqualValues(t, pack.CodeShutdown, s.code, "%v", s)
	require.Positive(t, s.delayMs, "%v", s)
	r.waitState(t, plexmobile.StateOnline)

	s4 := n.PushText("alice", "/p", "p4", true).Seq
	s5 := n.PushText("alice", "/p", "p5", true).Seq
	require.Greater(t, s4, held, "the store survived the restart: seqs go on")
	require.Equal(t, msg{"/p", "p4", s4}, r.nextMsg(t))
	require.Equal(t, msg{"/p", "p5", s5}, r.nextMsg(t))
	r.noMsg(t, 200*time.Millisecond)
	require.Eventually(t, func() bool { return c.LastSeq() == s5 }, waitFor, 5*time.Millisecond)
}

// LastSeq from an earlier run: nothing at or below it is delivered again,
// even to a device whose cursor on the node is behind.
func TestLastSeqFromAnEarlierRun(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	var seqs []int64
	for _, b := range []string{"old1", "old2", "new3"} {
		seqs = append(seqs, n.PushText("alice", "/p", b, true).Seq)
	}
	cfg := config(n, "alice")
	cfg.LastSeq = seqs[1]
	c, r := newClient(t, cfg)
	require.Equal(t, seqs[1], c.LastSeq())
	require.NoError(t, c.Connect())
	require.Equal(t, msg{"/p", "new3", seqs[2]}, r.nextMsg(t))
	r.noMsg(t, 200*time.Millisecond)
}

// A node whose store never issued the app's seqs answers a resume point
// below LastSeq (docs/protocol.md §12): new pushes are delivered, not
// dropped as duplicates, and LastSeq follows them down, so that the next
// session and the app's next run resume from the node's numbering.
func TestLastSeqFollowsAResumeBelowIt(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	cfg := config(n, "alice")
	// Beyond what the memory store raises its numbering to: it answers the
	// device's cursor (0) instead.
	cfg.LastSeq = 1 << 62
	c, r := newClient(t, cfg)
	require.NoError(t, c.Connect())
	r.expectStates(t, plexmobile.StateConnecting, plexmobile.StateOnline)
	seq := n.PushText("alice", "/p", "new", true).Seq
	require.Less(t, seq, cfg.LastSeq)
	require.Equal(t, msg{"/p", "new", seq}, r.nextMsg(t))
	require.Eventually(t, func() bool { return c.LastSeq() == seq }, waitFor, 5*time.Millisecond,
		"LastSeq stayed above the node's numbering")
	require.Eventually(t, func() bool { // acked on the node
		cur, err := n.Store.Cursor(context.Background(), "alice", "d1")
		return err == nil && cur == seq
	}, waitFor, 5*time.Millisecond)
}

func TestBackgroundDisconnectSuspendsAndResumes(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	cfg := config(n, "alice")
	cfg.BackgroundPolicy = plexmobile.BackgroundDisconnect
	c, r := newClient(t, cfg)
	require.NoError(t, c.Connect())
	r.expectStates(t, plexmobile.StateConnecting, plexmobile.StateOnline)
	fg := n.PushText("alice", "/p", "fg", true).Seq
	require.Equal(t, msg{"/p", "fg", fg}, r.nextMsg(t))

	require.NoError(t, c.EnterBackground())
	require.NoError(t, c.EnterBackground(), "twice is harmless")
	r.expectStates(t, plexmobile.StateSuspended)
	require.EqualValues(t, plexmobile.StateSuspended, c.State())
	require.ErrorContains(t, c.Send("/up", nil), "plexmobile: not connected")
	require.Eventually(t, func() bool { // the connection is really gone
		return n.PushText("alice", "/p", "probe", false).Offline == 1
	}, waitFor, 10*time.Millisecond)
	out := n.PushText("alice", "/p", "while away", true)
	require.Equal(t, 0, out.Delivered)
	require.Equal(t, 1, out.Stored)

	require.NoError(t, c.EnterForeground())
	r.expectStates(t, plexmobile.StateConnecting, plexmobile.StateOnline)
	m := r.nextMsg(t)
	require.Equal(t, msg{"/p", "while away", out.Seq}, m, "stored while suspended, delivered on resume")
	require.Greater(t, m.seq, fg)
	r.noMsg(t, 200*time.Millisecond) // "fg" is not delivered again
}

func TestBackgroundKeepChangesNothing(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	c, r := newClient(t, config(n, "alice"))
	require.NoError(t, c.Connect())
	r.expectStates(t, plexmobile.StateConnecting, plexmobile.StateOnline)
	require.NoError(t, c.EnterBackground())
	n.PushText("alice", "/p", "bg", false)
	require.Equal(t, "bg", r.nextMsg(t).body)
	require.NoError(t, c.EnterForeground())
	r.noState(t, 200*time.Millisecond)
}

// Connect while in background with BackgroundDisconnect starts nothing
// until EnterForeground.
func TestConnectInBackground(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	cfg := config(n, "alice")
	cfg.BackgroundPolicy = plexmobile.BackgroundDisconnect
	c, r := newClient(t, cfg)
	require.NoError(t, c.EnterBackground())
	require.NoError(t, c.Connect())
	r.expectStates(t, plexmobile.StateSuspended)
	r.noState(t, 100*time.Millisecond)
	require.NoError(t, c.EnterForeground())
	r.expectStates(t, plexmobile.StateConnecting, plexmobile.StateOnline)
}

// A Client waiting out a long backoff dials at once when the app comes to
// the foreground.
func TestForegroundSkipsBackoff(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	cfg := config(n, "alice")
	cfg.BackoffMinMs, cfg.BackoffMaxMs = 60000, 60000
	c, r := newClient(t, cfg)
	require.NoError(t, c.Connect())
	r.waitState(t, plexmobile.StateOnline)
	n.Restart()
	r.waitState(t, plexmobile.StateReconnecting) // now waiting 30–60 s
	start := time.Now()
	require.NoError(t, c.EnterForeground())
	r.expectStates(t, plexmobile.StateConnecting, plexmobile.StateOnline)
	require.Less(t, time.Since(start), 15*time.Second)
	n.PushText("alice", "/p", "back", false)
	require.Equal(t, "back", r.nextMsg(t).body)
}

func TestSendErrors(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	cfg := config(n, "alice")
	cfg.SendTimeoutMs = 300
	c, r := newClient(t, cfg)
	require.ErrorContains(t, c.Send("/up", nil), "plexmobile: not connected")
	require.NoError(t, c.Connect())
	r.waitState(t, plexmobile.StateOnline)
	for _, uri := range []string{"", "/heartbeat", "/inner/push", "/auth/server"} {
		require.ErrorContains(t, c.Send(uri, nil), "plexmobile: send failed", "uri %q", uri)
	}
	require.ErrorContains(t, c.Send("/up", []byte{0xff, 0xfe}), "plexmobile: send failed", "JSON needs UTF-8")

	n.Stop()
	r.waitState(t, plexmobile.StateReconnecting)
	start := time.Now()
	err := c.Send("/up", []byte("x"))
	require.ErrorContains(t, err, "plexmobile: send failed")
	require.ErrorContains(t, err, "deadline")
	require.Less(t, time.Since(start), 5*time.Second)
}

func TestLittleEndianProtobufBinaryBody(t *testing.T) {
	leakCheck(t)
	n := startNode(t, echo(server.Config{ByteOrder: pack.LittleEndian}))
	cfg := config(n, "alice")
	cfg.LittleEndian, cfg.Codec = true, "protobuf"
	c, r := newClient(t, cfg)
	require.NoError(t, c.Connect())
	r.waitState(t, plexmobile.StateOnline)
	bin := string([]byte{0, 0xff, 0xfe, 1})
	require.NoError(t, c.Send("/bin", []byte(bin)))
	require.Equal(t, msg{"/bin", bin, 0}, r.nextMsg(t))
}

func TestDiscovery(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := &http.Server{Handler: n.Server.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { hs.Close() })
	cfg := config(n, "alice")
	cfg.Addrs, cfg.DiscoveryURL = "", "http://"+ln.Addr().String()
	c, r := newClient(t, cfg)
	require.NoError(t, c.Connect())
	r.waitState(t, plexmobile.StateOnline)
}

// A Listener that panics or fails does not break the SDK: the next
// message still arrives, and the failure is logged.
func TestListenerFailuresAreContained(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	c, r := newClient(t, config(n, "alice"))
	var logs lines
	require.NoError(t, c.SetLogger(&logs))
	r.onMsg = func(m msg) error {
		switch m.body {
		case "panic":
			panic("listener bug")
		case "fail":
			return errors.New("java.lang.IllegalStateException: app bug")
		}
		return nil
	}
	require.NoError(t, c.Connect())
	r.waitState(t, plexmobile.StateOnline)
	var last int64
	for _, b := range []string{"panic", "fail", "fine"} {
		last = n.PushText("alice", "/p", b, true).Seq
	}
	for _, b := range []string{"panic", "fail", "fine"} {
		require.Equal(t, b, r.nextMsg(t).body)
	}
	require.Eventually(t, func() bool { return c.LastSeq() == last }, waitFor, 5*time.Millisecond,
		"a failed callback still counts as delivered")
	require.Contains(t, logs.String(), "listener panicked")
	require.Contains(t, logs.String(), "app bug")
}

// Close from inside a callback returns at once; the final event follows.
func TestCloseFromCallback(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	c, r := newClient(t, config(n, "alice"))
	closed := make(chan error, 1)
	r.onMsg = func(msg) error { closed <- c.Close(); return nil }
	require.NoError(t, c.Connect())
	r.waitState(t, plexmobile.StateOnline)
	n.PushText("alice", "/p", "bye", false)
	require.Equal(t, "bye", r.nextMsg(t).body)
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(waitFor):
		t.Fatal("Close from a callback blocked")
	}
	require.Equal(t, stateEv{plexmobile.StateClosed, 0, "", 0}, r.nextState(t))
}

// Messages queued but not delivered when Close comes are not acked: the
// device's next connection gets them.
func TestCloseDropsUndeliveredUnacked(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	c, r := newClient(t, config(n, "alice"))
	release := make(chan struct{})
	r.onMsg = func(m msg) error {
		if m.body == "a" {
			<-release // the app is slow with the first message
		}
		return nil
	}
	require.NoError(t, c.Connect())
	r.waitState(t, plexmobile.StateOnline)
	seqA := n.PushText("alice", "/p", "a", true).Seq
	n.PushText("alice", "/p", "b", true)
	n.PushText("alice", "/p", "c", true)
	require.Equal(t, "a", r.nextMsg(t).body)
	closed := make(chan struct{})
	go func() { _ = c.Close(); close(closed) }()
	time.Sleep(50 * time.Millisecond)
	close(release)
	<-closed
	r.noMsg(t, 100*time.Millisecond)
	require.Eventually(t, func() bool { return c.LastSeq() == seqA }, waitFor, 5*time.Millisecond)

	// The app persisted LastSeq: "a" reached it (though it was not acked
	// before Close), so the next Client resumes after it.
	cfg := config(n, "alice")
	cfg.LastSeq = c.LastSeq()
	c2, r2 := newClient(t, cfg)
	require.NoError(t, c2.Connect())
	require.Equal(t, "b", r2.nextMsg(t).body)
	require.Equal(t, "c", r2.nextMsg(t).body)
}

// Many background/foreground cycles leave no goroutine behind.
func TestManySessionsNoLeak(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	cfg := config(n, "alice")
	cfg.BackgroundPolicy = plexmobile.BackgroundDisconnect
	c, r := newClient(t, cfg)
	require.NoError(t, c.Connect())
	r.waitState(t, plexmobile.StateOnline)
	for i := 0; i < 20; i++ {
		require.NoError(t, c.EnterBackground())
		r.waitState(t, plexmobile.StateSuspended)
		require.NoError(t, c.EnterForeground())
		r.waitState(t, plexmobile.StateOnline)
	}
	n.PushText("alice", "/p", "still here", true)
	require.Equal(t, "still here", r.nextMsg(t).body)
}

func TestEntryPointsRecoverPanics(t *testing.T) {
	var c *plexmobile.Client // every method dereferences it
	for name, f := range map[string]func() error{
		"Connect":         c.Connect,
		"Close":           c.Close,
		"EnterBackground": c.EnterBackground,
		"EnterForeground": c.EnterForeground,
		"Send":            func() error { return c.Send("/x", nil) },
		"SetListener":     func() error { return c.SetListener(nil) },
		"SetLogger":       func() error { return c.SetLogger(nil) },
	} {
		err := f()
		require.Error(t, err, name)
		require.True(t, strings.HasPrefix(err.Error(), "plexmobile: internal error: panic:"), "%s: %v", name, err)
	}
	require.EqualValues(t, 0, c.State())
	require.EqualValues(t, 0, c.LastSeq())
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  *plexmobile.Config
		want string // "" = valid
	}{
		{"nil", nil, "nil Config"},
		{"no address", &plexmobile.Config{}, "set Addrs or DiscoveryURL"},
		{"one address", &plexmobile.Config{Addrs: "127.0.0.1:9578"}, ""},
		{"list with spaces", &plexmobile.Config{Addrs: " a:1 , b:2 ,"}, ""},
		{"bad address", &plexmobile.Config{Addrs: "a:1,nohost"}, `"nohost" is not host:port`},
		{"discovery", &plexmobile.Config{DiscoveryURL: "https://push.example.com"}, ""},
		{"discovery scheme", &plexmobile.Config{DiscoveryURL: "ftp://x"}, "scheme"},
		{"codec json", &plexmobile.Config{Addrs: "a:1", Codec: "json"}, ""},
		{"codec protobuf", &plexmobile.Config{Addrs: "a:1", Codec: "protobuf"}, ""},
		{"codec other", &plexmobile.Config{Addrs: "a:1", Codec: "xml"}, "Codec"},
		{"negative ms", &plexmobile.Config{Addrs: "a:1", BackoffMinMs: -1}, "BackoffMinMs"},
		{"negative seq", &plexmobile.Config{Addrs: "a:1", LastSeq: -1}, "LastSeq"},
		{"policy slow heartbeat", &plexmobile.Config{Addrs: "a:1", BackgroundPolicy: plexmobile.BackgroundSlowHeartbeat}, ""},
		{"policy unknown", &plexmobile.Config{Addrs: "a:1", BackgroundPolicy: 3}, "BackgroundPolicy 3"},
		{"policy negative", &plexmobile.Config{Addrs: "a:1", BackgroundPolicy: -1}, "BackgroundPolicy -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := plexmobile.NewClient(tc.cfg)
			if tc.want == "" {
				require.NoError(t, err)
				require.NoError(t, c.Close())
				return
			}
			require.Nil(t, c)
			require.ErrorContains(t, err, "plexmobile: invalid config")
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// The token never reaches the log.
func TestLogsNeverShowTheToken(t *testing.T) {
	leakCheck(t)
	const token = "tok-4f1a9c"
	n := startNode(t, server.Config{Authenticator: auth.Func(
		func(_ context.Context, tok string, _ net.Addr) (string, error) {
			if tok != token {
				return "", &pack.CodeError{Code: pack.CodeAuthFailed, Reason: "bad token"}
			}
			return "alice", nil
		})})
	c, r := newClient(t, config(n, token))
	var logs lines
	require.NoError(t, c.SetLogger(&logs))
	require.NoError(t, c.Connect())
	r.waitState(t, plexmobile.StateOnline)
	n.Restart()
	r.waitState(t, plexmobile.StateOnline)
	require.NoError(t, c.Close())
	require.Contains(t, logs.String(), "online")
	require.NotContains(t, logs.String(), token)
}

// The listener receives each push's meta (protocol §13.6): the node's id
// and ts, persist for a persistent push, and the pusher's own keys.
func TestListenerReceivesPushMeta(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	c, r := newClient(t, config(n, "alice"))
	require.NoError(t, c.Connect())
	r.expectStates(t, plexmobile.StateConnecting, plexmobile.StateOnline)

	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	out, err := n.Push(ctx, server.User("alice"), pack.Message{URI: "/p", Body: []byte("x"), Meta: map[string]string{"kind": "chat", "id": "m-1"}}, server.Persist(0))
	require.NoError(t, err)
	require.Equal(t, msg{"/p", "x", out.Seq}, r.nextMsg(t))
	meta := <-r.metas
	require.Equal(t, "chat", meta.Get("kind"))
	require.Equal(t, "m-1", meta.Get("id"), "the pusher's id is kept")
	require.Equal(t, "1", meta.Get("persist"))
	require.True(t, meta.Has("ts"))
	require.False(t, meta.Has("nope"))
	var keys []string
	for i := range meta.Len() {
		keys = append(keys, meta.Key(i))
	}
	require.Equal(t, []string{"id", "kind", "persist", "ts"}, keys, "sorted")
	require.Equal(t, "", meta.Key(meta.Len()))

	n.PushText("alice", "/t", "transient", false)
	require.Equal(t, "transient", r.nextMsg(t).body)
	require.False(t, (<-r.metas).Has("persist"))
}
