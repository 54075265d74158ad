package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// fakeBus is the whole cluster contract as a test writes it: one
// interface, each method a line or two.
type fakeBus struct {
	mu        sync.Mutex
	node      *server.BusNode
	registers int
	published []server.Delivery
	members   []string
	online    func(uid string) bool
	health    error
	storeErr  error // StoreHealth's answer
	// registerErr fails Register (and so New).
	registerErr error
	// reach answers a push to one user as the other nodes would (nil: no
	// other node holds anyone); it may call report later, from any goroutine.
	reach func(d server.Delivery, report func(server.Reach))
	asks  int // Publish calls with a reach
}

func (b *fakeBus) asked() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.asks
}

func (b *fakeBus) Register(n *server.BusNode) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.node, b.registers = n, b.registers+1
	return b.registerErr
}

func (b *fakeBus) Publish(_ context.Context, d server.Delivery, report func(server.Reach)) error {
	b.mu.Lock()
	b.published = append(b.published, d)
	reach := b.reach
	if report != nil {
		b.asks++
	}
	b.mu.Unlock()
	if report == nil {
		return nil
	}
	if reach == nil {
		report(server.Reach{})
		return nil
	}
	reach(d, report)
	return nil
}

func (b *fakeBus) MemberChanged(room, uid string, member bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if member {
		b.members = append(b.members, room+"+"+uid)
	}
}

func (b *fakeBus) Online(uid string) bool {
	if b.online != nil {
		return b.online(uid)
	}
	return false
}

func (b *fakeBus) Subscribe(string) error   { return nil }
func (b *fakeBus) Unsubscribe(string) error { return nil }
func (b *fakeBus) Resync(string)            {}
func (b *fakeBus) PickHost() (string, bool) { return "10.0.0.9:9578", true }
func (b *fakeBus) Nodes() []server.NodeInfo { return []server.NodeInfo{{ID: "other"}} }
func (b *fakeBus) Health() error            { return b.health }
func (b *fakeBus) StoreHealth() error       { return b.storeErr }
func (b *fakeBus) Close() error             { return nil }
func (b *fakeBus) snapshot() (int, []string, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.registers, b.members, len(b.published)
}

// A node registers with its bus once, takes other nodes' pushes through
// BusNode.Deliver, and asks the bus for what only a cluster knows.
func TestBusContractWithAFake(t *testing.T) {
	bus := &fakeBus{health: errors.New("no route")}
	n := startNode(t, server.Config{Bus: bus, Authenticator: auth.None{}})
	regs, _, _ := bus.snapshot()
	require.Equal(t, 1, regs)
	require.Equal(t, n.NodeID(), bus.node.ID())

	a := app(t, n.Addr, "alice", nil)
	bus.node.Deliver(server.Delivery{Origin: "other", To: server.User("alice"), Msg: pack.Message{URI: "/chat", Body: []byte("from another node")}})
	require.Equal(t, "from another node", string(a.recvSkipHeartbeat().Body))

	require.NoError(t, n.Join(server.Room("room1"), "alice"))
	_, members, _ := bus.snapshot()
	require.Equal(t, []string{"room1+alice"}, members, "membership changes go to the bus")
	_, err := n.Push(context.Background(), server.Room("room1"), pack.Message{URI: "/r", Body: []byte("x")})
	require.NoError(t, err)
	_, _, published := bus.snapshot()
	require.Equal(t, 1, published, "a room push is published once")

	rec := httptest.NewRecorder()
	n.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/plex/v1/host", nil))
	require.Contains(t, rec.Body.String(), "10.0.0.9:9578")
	rec = httptest.NewRecorder()
	n.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.True(t, strings.Contains(rec.Body.String(), "no route"), rec.Body.String())
}

// TestReadinessGauges: plex_ready and plex_store_ready say what /readyz
// and /readyz?store=1 say, so a dashboard and an alert see a node that
// routes pushes but cannot store them.
func TestReadinessGauges(t *testing.T) {
	bus := &fakeBus{storeErr: errors.New("no JetStream quorum")}
	n := startNode(t, server.Config{Bus: bus, Authenticator: auth.None{}})
	status := func(path string) int {
		rec := httptest.NewRecorder()
		n.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code
	}
	eventually(t, func() bool { return status("/readyz") == http.StatusOK }, "serving")
	require.Equal(t, http.StatusServiceUnavailable, status("/readyz?store=1"))
	require.Equal(t, 1.0, metricValue(t, n, "plex_ready", ""))
	require.Equal(t, 0.0, metricValue(t, n, "plex_store_ready", ""))

	down := &fakeBus{health: errors.New("no route")}
	m := startNode(t, server.Config{Bus: down, Authenticator: auth.None{}})
	require.Equal(t, 0.0, metricValue(t, m, "plex_ready", ""))
	require.Equal(t, 1.0, metricValue(t, m, "plex_store_ready", ""))
}

// Bus.Online may wait on the network: a push to an offline user must not
// wait for it (the node asks it for OnUndelivered on the hooks goroutine,
// not under the user's order lock).
func TestUndeliveredDoesNotWaitForClusterLookup(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	fired := make(chan string, 1)
	bus := &fakeBus{online: func(string) bool {
		entered <- struct{}{}
		<-release
		return false
	}}
	n := startNode(t, server.Config{Bus: bus, Authenticator: auth.None{},
		OnUndelivered: func(uid string, _ *pack.Message, _ bool) { fired <- uid }})
	defer close(release)

	done := make(chan error, 1)
	go func() {
		_, err := n.Push(context.Background(), server.User("bob"), pack.Message{URI: "/x", Body: []byte("1")})
		done <- err
	}()
	<-entered // the cluster lookup is running and blocked
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Push waited for Bus.Online (it holds the user's order lock meanwhile)")
	}
	release <- struct{}{}
	require.Equal(t, "bob", <-fired, "the hook fires once the lookup says no node holds bob")
}

// A push to one user is true for the whole cluster: for a user this node
// does not hold, the connections the other node wrote it to are delivered
// and the user is offline only when no node holds them (the pusher is
// answered once the other nodes answered); a user held here is counted
// here, the other nodes not asked.
func TestOutcomeCountsOtherNodes(t *testing.T) {
	type answer struct {
		r     server.Reach
		delay time.Duration
	}
	var next answer
	var mu sync.Mutex
	bus := &fakeBus{reach: func(_ server.Delivery, report func(server.Reach)) {
		mu.Lock()
		a := next
		mu.Unlock()
		if a.delay == 0 {
			report(a.r)
			return
		}
		time.AfterFunc(a.delay, func() { report(a.r) })
	}}
	n := startNode(t, server.Config{Bus: bus, Authenticator: auth.None{}})
	app(t, n.Addr, "alice", nil) // alice has one connection here
	push := func(uid string, a answer, persist bool) server.Outcome {
		mu.Lock()
		next = a
		mu.Unlock()
		var opts []server.PushOption
		if persist {
			opts = append(opts, server.Persist(0))
		}
		out, err := n.Push(context.Background(), server.User(uid), pack.Message{URI: "/x", Body: []byte("1")}, opts...)
		require.NoError(t, err)
		return out
	}
	for _, persist := range []bool{false, true} {
		stored := 0
		if persist {
			stored = 1
		}
		// bob is connected to two other nodes only, three connections
		out := push("bob", answer{r: server.Reach{Delivered: 3, Elsewhere: true}}, persist)
		require.Equal(t, 3, out.Delivered)
		require.Zero(t, out.Offline, "held elsewhere is not offline")
		require.Equal(t, stored, out.Stored)
		// the answer comes later: the pusher waits for it
		out = push("bob", answer{r: server.Reach{Delivered: 1, Elsewhere: true}, delay: 100 * time.Millisecond}, persist)
		require.Equal(t, 1, out.Delivered)
		// alice here (and maybe elsewhere): counted here, nobody asked
		asked := bus.asked()
		out = push("alice", answer{r: server.Reach{Delivered: 2, Elsewhere: true}}, persist)
		require.Equal(t, 1, out.Delivered)
		require.Zero(t, out.Offline)
		require.Equal(t, asked, bus.asked(), "a user held here is not asked about")
		// carol nowhere
		out = push("carol", answer{r: server.Reach{}}, persist)
		require.Zero(t, out.Delivered)
		require.Equal(t, 1, out.Offline)
		// a node that holds dave did not answer in time: not offline, nothing counted
		out = push("dave", answer{r: server.Reach{Elsewhere: true}}, persist)
		require.Zero(t, out.Delivered)
		require.Zero(t, out.Offline)
	}
	// several users: each one's answer adds up
	mu.Lock()
	next = answer{r: server.Reach{Delivered: 1, Elsewhere: true}}
	mu.Unlock()
	out, err := n.Push(context.Background(), server.Users("alice", "bob"), pack.Message{URI: "/x", Body: []byte("1")})
	require.NoError(t, err)
	require.Equal(t, 2, out.Delivered) // alice: 1 here; bob: 1 elsewhere
	require.Zero(t, out.Offline)
}

// A bus that refuses to register fails New, and New leaves nothing behind:
// the loops it had started (the timing wheel, the write budget) and the
// event loop stop (goleak in TestMain and here).
func TestNewStopsWhatItStartedWhenTheBusFails(t *testing.T) {
	before := goleak.IgnoreCurrent()
	_, err := server.New(server.Config{Bus: &fakeBus{registerErr: errors.New("no cluster")}, Authenticator: auth.None{}})
	require.ErrorContains(t, err, "no cluster")
	goleak.VerifyNone(t, before)
}
