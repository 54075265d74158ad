package plexmobile_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lesismal/nbio/logging"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/plexpush/plex/internal/testnode"
	"github.com/plexpush/plex/pack"
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

// leakCheck registers a goroutine-leak check that runs after every other
// cleanup of the test (cleanups run last-in, first-out).
func leakCheck(t *testing.T) {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) })
}

// node is an in-process plex server on loopback (internal/testnode);
// Restart brings a new server up on the same address with the same store.
type node = testnode.Node

func startNode(t *testing.T, cfg server.Config) *node { return testnode.Start(t, cfg) }

// echo makes a node config send every upstream message back to its sender.
func echo(cfg server.Config) server.Config {
	cfg.OnUpstream = func(s *server.Session, m *pack.Message) { _ = s.Send(m) }
	return cfg
}

// config is a Config for node n with test-friendly timings.
func config(n *node, token string) *plexmobile.Config {
	return &plexmobile.Config{
		Addrs: n.Addr, Token: token, Device: "d1",
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
	delayMs     int64
}

func (s stateEv) String() string {
	return fmt.Sprintf("%s/%d %q +%dms", stateName(s.state), s.code, s.reason, s.delayMs)
}

// stateName is the §13.6 name of a State constant, for failure messages.
func stateName(st int64) string {
	switch st {
	case plexmobile.StateIdle:
		return "idle"
	case plexmobile.StateConnecting:
		return "connecting"
	case plexmobile.StateOnline:
		return "online"
	case plexmobile.StateReconnecting:
		return "reconnecting"
	case plexmobile.StateSuspended:
		return "suspended"
	case plexmobile.StateClosed:
		return "closed"
	}
	return fmt.Sprintf("state(%d)", st)
}

// recorder is a Listener that records events in channels.
type recorder struct {
	msgs   chan msg
	metas  chan *plexmobile.Meta // each message's meta, in the same order
	states chan stateEv
	onMsg  func(msg) error // optional hook, on the SDK thread
}

func newRecorder() *recorder {
	return &recorder{msgs: make(chan msg, 4096), metas: make(chan *plexmobile.Meta, 4096), states: make(chan stateEv, 4096)}
}

func (r *recorder) OnMessage(uri string, body []byte, seq int64, meta *plexmobile.Meta) error {
	m := msg{uri, string(body), seq}
	select {
	case r.metas <- meta:
	default: // a test that does not read metas
	}
	r.msgs <- m
	if r.onMsg != nil {
		return r.onMsg(m)
	}
	return nil
}

func (r *recorder) OnState(state, code int64, reason string, delayMs int64) error {
	r.states <- stateEv{state, code, reason, delayMs}
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
