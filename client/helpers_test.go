package client_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lesismal/nbio/logging"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/internal/testnode"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
	"github.com/plexpush/plex/server"
)

func TestMain(m *testing.M) {
	logging.SetLevel(logging.LevelNone) // nbio's logger is process-wide
	goleak.VerifyTestMain(m)
}

// Generous bounds: the tests run on a busy 2-core machine. They are upper
// bounds for "eventually", never timing assertions.
const (
	secret  = testnode.Secret
	waitFor = 20 * time.Second
)

// fast is a backoff that keeps reconnect tests quick.
var fast = client.Backoff{Min: 5 * time.Millisecond, Max: 100 * time.Millisecond}

// leakCheck registers a goroutine-leak check that runs after every other
// cleanup of the test (cleanups run last-in, first-out). Goroutines that
// existed when the test began (e.g. process-wide pools that dependencies
// start in init) are not the test's.
func leakCheck(t *testing.T) {
	t.Helper()
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, before) })
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	t.Cleanup(cancel)
	return ctx
}

// node is a server under test on a loopback listener, shut down at
// cleanup (internal/testnode).
type node = testnode.Node

func startNode(t *testing.T, cfg server.Config) *node { return testnode.Start(t, cfg) }

// pusher returns a PlexClient for addrs, closed at cleanup.
func pusher(t *testing.T, cfg client.Config) *client.PlexClient {
	t.Helper()
	if cfg.Secret == "" {
		cfg.Secret = secret
	}
	if cfg.Backoff == (client.Backoff{}) {
		cfg.Backoff = fast
	}
	if cfg.Logger == nil {
		cfg.Logger = plog.Test(t)
	}
	c, err := client.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c
}

// app is a client.Conn whose callbacks feed channels.
type app struct {
	*client.Conn
	msgs   chan *pack.Message
	states chan stateEvent
	slow   func() // when set, runs in OnMessage (dispatcher goroutine)
}

type stateEvent struct {
	s   client.State
	err error
}

// newApp creates (not connects) a Conn with recording callbacks.
func newApp(t *testing.T, cfg client.ConnConfig) *app {
	t.Helper()
	a := &app{msgs: make(chan *pack.Message, 100000), states: make(chan stateEvent, 10000)}
	if cfg.Backoff == (client.Backoff{}) {
		cfg.Backoff = fast
	}
	if cfg.Logger == nil {
		cfg.Logger = plog.Test(t)
	}
	cfg.OnMessage = func(m *pack.Message) {
		if a.slow != nil {
			a.slow()
		}
		a.msgs <- m
	}
	onState := cfg.OnState // a test's own, run first
	cfg.OnState = func(s client.State, err error) {
		if onState != nil {
			onState(s, err)
		}
		a.states <- stateEvent{s, err}
	}
	c, err := client.NewConn(cfg)
	require.NoError(t, err)
	a.Conn = c
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return a
}

// dialApp connects an app with token uid to addr.
func dialApp(t *testing.T, addr, uid string, cfg client.ConnConfig) *app {
	t.Helper()
	cfg.Addrs = []string{addr}
	cfg.Token = plog.Secret(uid)
	a := newApp(t, cfg)
	require.NoError(t, a.Connect(ctxT(t)))
	return a
}

// recv returns the next message that is not a heartbeat, failing after waitFor.
func (a *app) recv(t *testing.T) *pack.Message {
	t.Helper()
	select {
	case m := <-a.msgs:
		return m
	case <-time.After(waitFor):
		t.Fatal("no message within", waitFor)
		return nil
	}
}

// state returns the next state change.
func (a *app) state(t *testing.T) stateEvent {
	t.Helper()
	select {
	case e := <-a.states:
		return e
	case <-time.After(waitFor):
		t.Fatal("no state change within", waitFor)
		return stateEvent{}
	}
}

// waitState skips state changes until s.
func (a *app) waitState(t *testing.T, s client.State) stateEvent {
	t.Helper()
	for {
		if e := a.state(t); e.s == s {
			return e
		}
	}
}

// raw is a peer written to the protocol by hand: what an original app or
// push client sends, byte for byte.
type raw struct {
	t *testing.T
	c net.Conn
	r *pack.Reader
	w *pack.Writer
}

func dialRaw(t *testing.T, addr string) *raw {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, waitFor)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	return &raw{t: t, c: nc, r: pack.NewReader(nc, pack.BigEndian, pack.JSON, 0), w: pack.NewWriter(nc, pack.BigEndian, pack.JSON)}
}

func (p *raw) send(m pack.Message) {
	p.t.Helper()
	require.NoError(p.t, p.w.WriteMessage(&m))
	require.NoError(p.t, p.w.Flush())
}

func (p *raw) recv() pack.Message {
	p.t.Helper()
	_ = p.c.SetReadDeadline(time.Now().Add(waitFor))
	var m pack.Message
	require.NoError(p.t, p.r.ReadMessage(&m))
	return m
}

// recvSkip returns the next message that is not a heartbeat.
func (p *raw) recvSkip() pack.Message {
	p.t.Helper()
	for {
		if m := p.recv(); m.URI != pack.URIHeartbeat {
			return m
		}
	}
}

func authNone() server.Authenticator { return auth.None{} }

// recvT receives from ch, failing the test after waitFor: tests never hang.
func recvT[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitFor):
		t.Fatalf("%s: nothing within %v", what, waitFor)
		var zero T
		return zero
	}
}

// scriptedNode is a node written by hand: it accepts connections, answers
// the first frame with /auth/success carrying info, then runs after on the
// connection (nil: reads nothing more, a node that hangs after the
// handshake). Connections and the listener close at cleanup.
func scriptedNode(t *testing.T, info string, after func(c net.Conn, r *pack.Reader)) (addr string, accepts *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	accepts = new(atomic.Int64)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepts.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				r := pack.NewReader(c, pack.BigEndian, pack.JSON, 0)
				var m pack.Message
				if r.ReadMessage(&m) != nil {
					return
				}
				w := pack.NewWriter(c, pack.BigEndian, pack.JSON)
				_ = w.WriteMessage(&pack.Message{URI: pack.URIAuthSuccess, Body: []byte(info)})
				_ = w.Flush()
				if after != nil {
					after(c, r)
				}
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String(), accepts
}
