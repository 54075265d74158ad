package plexmobile_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lesismal/nbio/logging"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
	plexmobile "github.com/plexpush/plex/sdk/mobile"
	"github.com/plexpush/plex/server"
)

func TestMain(m *testing.M) {
	logging.SetLevel(logging.LevelNone) // nbio's logger is process-wide
	goleak.VerifyTestMain(m)
}

// waitFor bounds every "eventually" in these tests; generous for a busy
// 2-core machine, never a timing assertion.
const waitFor = 20 * time.Second

const secret = "s"

// leakCheck registers a goroutine-leak check that runs after every other
// cleanup of the test (cleanups run last-in, first-out).
func leakCheck(t *testing.T) {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) })
}

// node is an in-process plex server on loopback. restart brings a new
// server up on the same address with the same store, as a node restarted
// with a durable store would be.
type node struct {
	t     *testing.T
	cfg   server.Config
	addr  string
	srv   *server.Server
	done  chan error
	store *server.MemoryStore
}

func startNode(t *testing.T, cfg server.Config) *node {
	t.Helper()
	if cfg.Authenticator == nil {
		cfg.Authenticator = auth.None{}
	}
	if cfg.InnerSecret == "" {
		cfg.InnerSecret = secret
	}
	if cfg.Logger == nil {
		cfg.Logger = plog.Test(t)
	}
	n := &node{t: t, store: server.NewMemoryStore(server.MemoryStoreConfig{})}
	if cfg.Store == nil {
		cfg.Store = n.store
	}
	n.cfg = cfg
	n.start("127.0.0.1:0")
	t.Cleanup(n.stop)
	return n
}

func (n *node) start(addr string) {
	n.t.Helper()
	srv, err := server.New(n.cfg)
	require.NoError(n.t, err)
	var ln net.Listener
	for i := 0; ; i++ { // the port of a node that just stopped may linger briefly
		ln, err = net.Listen("tcp", addr)
		if err == nil || i == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(n.t, err)
	n.srv, n.addr, n.done = srv, ln.Addr().String(), make(chan error, 1)
	go func() { n.done <- srv.Serve(ln) }()
}

// stop shuts the node down gracefully (apps get /disconnect 3000).
func (n *node) stop() {
	if n.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	require.NoError(n.t, n.srv.Shutdown(ctx))
	require.ErrorIs(n.t, <-n.done, server.ErrServerClosed)
	n.srv = nil
}

func (n *node) restart() {
	n.t.Helper()
	n.stop()
	n.start(n.addr)
}

// push sends a push to uid through the node's in-process API.
func (n *node) push(uid, uri, body string, persist bool) server.Outcome {
	n.t.Helper()
	var opts []server.PushOption
	if persist {
		opts = append(opts, server.Persist(0))
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	out, err := n.srv.Push(ctx, server.User(uid), pack.Message{URI: uri, Body: []byte(body)}, opts...)
	require.NoError(n.t, err)
	return out
}

// echo makes a node config send every upstream message back to its sender.
func echo(cfg server.Config) server.Config {
	cfg.OnUpstream = func(s *server.Session, m *pack.Message) { _ = s.Send(m) }
	return cfg
}

// config is a Config for the node with test-friendly timings.
func (n *node) config(token string) *plexmobile.Config {
	return &plexmobile.Config{
		Addrs: n.addr, Token: token, Device: "d1",
		BackoffMinMs: 20, BackoffMaxMs: 200, DialTimeoutMs: 5000, SendTimeoutMs: 10000,
	}
}

type msg struct {
	uri, body string
	seq       int64
}

type stateEv struct {
	state, code int64
	reason      string
}

func (s stateEv) String() string { return fmt.Sprintf("%d/%d %q", s.state, s.code, s.reason) }

// recorder is a Listener that records events in channels.
type recorder struct {
	msgs   chan msg
	states chan stateEv
	onMsg  func(msg) error // optional hook, on the SDK thread
}

func newRecorder() *recorder {
	return &recorder{msgs: make(chan msg, 4096), states: make(chan stateEv, 4096)}
}

func (r *recorder) OnMessage(uri string, body []byte, seq int64) error {
	m := msg{uri, string(body), seq}
	r.msgs <- m
	if r.onMsg != nil {
		return r.onMsg(m)
	}
	return nil
}

func (r *recorder) OnState(state, code int64, reason string) error {
	r.states <- stateEv{state, code, reason}
	return nil
}

// nextState returns the next state event, failing after waitFor.
func (r *recorder) nextState(t *testing.T) stateEv {
	t.Helper()
	select {
	case s := <-r.states:
		return s
	case <-time.After(waitFor):
		t.Fatalf("no state event within %v", waitFor)
		return stateEv{}
	}
}

// expectStates consumes state events and requires exactly these states.
func (r *recorder) expectStates(t *testing.T, want ...int64) []stateEv {
	t.Helper()
	var got []stateEv
	for range want {
		got = append(got, r.nextState(t))
	}
	var states []int64
	for _, s := range got {
		states = append(states, s.state)
	}
	require.Equal(t, want, states, "states: %v", got)
	return got
}

// waitState skips state events until one with state st arrives.
func (r *recorder) waitState(t *testing.T, st int64) stateEv {
	t.Helper()
	var seen []stateEv
	deadline := time.After(waitFor)
	for {
		select {
		case s := <-r.states:
			if s.state == st {
				return s
			}
			seen = append(seen, s)
		case <-deadline:
			t.Fatalf("no state %d within %v; saw %v", st, waitFor, seen)
		}
	}
}

// noState requires that no state event arrives within d.
func (r *recorder) noState(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case s := <-r.states:
		t.Fatalf("unexpected state event %v", s)
	case <-time.After(d):
	}
}

func (r *recorder) nextMsg(t *testing.T) msg {
	t.Helper()
	select {
	case m := <-r.msgs:
		return m
	case <-time.After(waitFor):
		t.Fatalf("no message within %v", waitFor)
		return msg{}
	}
}

func (r *recorder) noMsg(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case m := <-r.msgs:
		t.Fatalf("unexpected message %+v", m)
	case <-time.After(d):
	}
}

// newClient creates a Client with a recorder, closed at cleanup.
func newClient(t *testing.T, cfg *plexmobile.Config) (*plexmobile.Client, *recorder) {
	t.Helper()
	c, err := plexmobile.NewClient(cfg)
	require.NoError(t, err)
	r := newRecorder()
	require.NoError(t, c.SetListener(r))
	require.NoError(t, c.SetLogger(testLogger{t}))
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c, r
}

// testLogger sends the SDK's lines to the test log.
type testLogger struct{ t *testing.T }

func (l testLogger) Log(level int64, line string) { l.t.Logf("plexmobile %d: %s", level, line) }

// lines is a Logger that keeps every line.
type lines struct {
	mu sync.Mutex
	l  []string
}

func (l *lines) Log(level int64, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.l = append(l.l, fmt.Sprintf("%d %s", level, line))
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.l, "\n")
}
