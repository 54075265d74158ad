package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// gatedStore is a Store that does "I/O" (it is not Local): while held,
// every call waits until released, like a store whose NATS is slow or away.
type gatedStore struct {
	inner   *server.MemoryStore
	mu      sync.Mutex
	gate    chan struct{} // closed: open
	entered chan string   // the calls that reached the gate
}

func newGatedStore() *gatedStore {
	g := &gatedStore{inner: server.NewMemoryStore(server.MemoryStoreConfig{}), gate: make(chan struct{}), entered: make(chan string, 1000)}
	close(g.gate)
	return g
}

func (g *gatedStore) hold() {
	g.mu.Lock()
	g.gate = make(chan struct{})
	g.mu.Unlock()
}

func (g *gatedStore) release() {
	g.mu.Lock()
	close(g.gate)
	g.mu.Unlock()
}

func (g *gatedStore) pass(ctx context.Context, call string) error {
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	select {
	case g.entered <- call:
	default:
	}
	select {
	case <-gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitEntered waits until a call named call reached the gate.
func (g *gatedStore) waitEntered(t *testing.T, call string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case c := <-g.entered:
			if c == call {
				return
			}
		case <-deadline:
			t.Fatalf("no %s call reached the store", call)
		}
	}
}

// Append does not block (the Store contract): the gate holds the answer.
func (g *gatedStore) Append(ctx context.Context, uid string, m *pack.Message, ttl time.Duration, done func(server.Appended)) {
	go func() {
		if err := g.pass(ctx, "append"); err != nil {
			done(server.Appended{Err: err})
			return
		}
		g.inner.Append(ctx, uid, m, ttl, done)
	}()
}

func (g *gatedStore) After(ctx context.Context, uid string, after int64, limit int) ([]pack.Message, error) {
	if err := g.pass(ctx, "after"); err != nil {
		return nil, err
	}
	return g.inner.After(ctx, uid, after, limit)
}

func (g *gatedStore) Ack(ctx context.Context, uid, device string, seq int64) error {
	if err := g.pass(ctx, "ack"); err != nil {
		return err
	}
	return g.inner.Ack(ctx, uid, device, seq)
}

func (g *gatedStore) Cursors(ctx context.Context, uid string) (map[string]int64, error) {
	if err := g.pass(ctx, "cursors"); err != nil {
		return nil, err
	}
	return g.inner.Cursors(ctx, uid)
}

func (g *gatedStore) Cursor(ctx context.Context, uid, device string) (int64, error) {
	if err := g.pass(ctx, "cursor"); err != nil {
		return 0, err
	}
	return g.inner.Cursor(ctx, uid, device)
}

// Local: the gated store blocks, as a store doing I/O may.
func (g *gatedStore) Local() bool { return false }

func (g *gatedStore) Resume(ctx context.Context, uid, device string, resume int64) (int64, error) {
	if err := g.pass(ctx, "resume"); err != nil {
		return 0, err
	}
	return g.inner.Resume(ctx, uid, device, resume)
}

// slowStoreNode is a node with one poller (every connection shares it) and
// a gated store, plus bob: an app whose heartbeat echo proves the poller is
// free.
func slowStoreNode(t *testing.T) (*node, *gatedStore, *peer) {
	g := newGatedStore()
	n := startNode(t, server.Config{Store: g, Pollers: 1})
	bob := app(t, n.Addr, "bob", nil)
	return n, g, bob
}

func (p *peer) echoes() {
	p.t.Helper()
	p.send(pack.Message{URI: pack.URIHeartbeat})
	require.Equal(p.t, pack.URIHeartbeat, p.recv().URI, "the poller is stalled")
}

func persistentPush(t *testing.T, seq int64, uid string) pack.Message {
	body, err := json.Marshal(server.PushRequest{UID: uid, URI: "/p", Body: "x", Persist: true})
	require.NoError(t, err)
	return pack.Message{Seq: seq, URI: pack.URIPush, Body: body}
}

// TestSlowStorePushDoesNotStallOthers: a persistent push waiting for the
// store does not hold up other connections on the same poller, and its
// reply comes once the store answers; pushes behind it keep their order.
func TestSlowStorePushDoesNotStallOthers(t *testing.T) {
	n, g, bob := slowStoreNode(t)
	alice := app(t, n.Addr, "alice", nil)
	p := pusher(t, n.Addr)
	g.hold()
	p.send(persistentPush(t, 1, "alice"))
	p.send(persistentPush(t, 2, "alice"))
	g.waitEntered(t, "append")
	bob.echoes()
	g.release()
	for seq := int64(1); seq <= 2; seq++ {
		m := p.recv()
		require.Equal(t, pack.URIReply, m.URI, "%+v", m)
		require.Equal(t, seq, m.Seq)
		got := alice.recvSkipHeartbeat()
		require.Equal(t, seq, got.Seq, "persistent pushes out of order")
	}
}

// TestSlowStoreAckDoesNotStallOthers: an ack waiting for the store does not
// hold up the poller, and is written once the store answers.
func TestSlowStoreAckDoesNotStallOthers(t *testing.T) {
	n, g, bob := slowStoreNode(t)
	alice := app(t, n.Addr, "alice", map[string]string{pack.MetaAcks: "1", pack.MetaDevice: "phone"})
	_, err := n.Push(context.Background(), server.User("alice"), pack.Message{URI: "/p", Body: []byte("x")}, server.Persist(time.Minute))
	require.NoError(t, err)
	m := alice.recvSkipHeartbeat()
	require.Positive(t, m.Seq)
	g.hold()
	alice.send(pack.Message{URI: pack.URIAck, Seq: m.Seq})
	g.waitEntered(t, "ack")
	bob.echoes()
	alice.echoes()
	g.release()
	eventually(t, func() bool {
		c, _ := g.inner.Cursor(context.Background(), "alice", "phone")
		return c == m.Seq
	}, "the ack reached the store")
}

// TestSlowStoreLoginDoesNotStallOthers: a login whose replay waits for the
// store does not hold up the poller; it completes once the store answers.
func TestSlowStoreLoginDoesNotStallOthers(t *testing.T) {
	n, g, bob := slowStoreNode(t)
	g.hold()
	carol := dial(t, n.Addr)
	carol.send(pack.Message{URI: pack.URIAuth, Body: []byte("carol")})
	g.waitEntered(t, "cursor")
	bob.echoes()
	g.release()
	require.Equal(t, pack.URIAuthSuccess, carol.recv().URI)
	carol.echoes()
}

// TestSlowStorePushQueueIsBounded: a push client that keeps sending while
// the store does not answer is closed with 3005 once what the node holds
// for it is over the bounds (16 MiB queued in the user's pipe behind the
// persistent push in flight, up to 16 MiB taken by the decoder in one
// chunk, then 16 MiB of unread frames), instead of growing the node's
// memory without limit: past them its input is read and dropped. The
// pushes it accepted are answered before the /disconnect (protocol §13.4).
func TestSlowStorePushQueueIsBounded(t *testing.T) {
	n, g, bob := slowStoreNode(t)
	p := pusher(t, n.Addr)
	g.hold()
	released := false
	defer func() {
		if !released {
			g.release()
		}
	}()
	p.send(persistentPush(t, 1, "alice"))
	g.waitEntered(t, "append")
	big := strings.Repeat("x", 512<<10)
	// persistent: they wait in alice's pipe (a transient push would
	// overtake the stuck append after 250ms and leave the queue)
	body, err := json.Marshal(server.PushRequest{UID: "alice", URI: "/p", Body: big, Persist: true})
	require.NoError(t, err)
	frame, err := pack.EncodeFrame(pack.BigEndian, pack.JSON, &pack.Message{Seq: 2, URI: pack.URIPush, Body: body})
	require.NoError(t, err)
	written := make(chan error, 1)
	go func() {
		for range 120 { // 60 MiB: over the 3 × 16 MiB bounds and what the sockets buffer
			if _, err := p.c.Write(frame); err != nil {
				written <- err
				return
			}
		}
		written <- nil
	}()
	select { // the node took all 60 MiB while its store answered nothing: it dropped the excess
	case err := <-written:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("the node stopped reading the push client")
	}
	bob.echoes()
	g.release()
	released = true
	r := p.recv()
	require.Equal(t, pack.URIReply, r.URI, "the push in flight is answered first: %+v", r)
	require.Equal(t, int64(1), r.Seq)
	var m pack.Message
	for m = p.recv(); m.URI == pack.URIReply; m = p.recv() {
	}
	require.Equal(t, pack.URIDisconnect, m.URI, "%+v", m)
	require.Equal(t, pack.CodeInternal, pack.ErrorOf(&m).Code)
	require.Equal(t, 1.0, metricValue(t, n, "plex_closes_total", "3005"))
}

// TestSlowStoreMessageDoesNotStallOthers: an app's /message waiting for the
// store does not hold up the poller; a sender's messages are stored and
// delivered in the order it sent them, and each gets its answer.
func TestSlowStoreMessageDoesNotStallOthers(t *testing.T) {
	g := newGatedStore()
	n := startNode(t, server.Config{Store: g, Pollers: 1, MessagePolicy: func(string, string) bool { return true }})
	bob := app(t, n.Addr, "bob", nil)
	alice := app(t, n.Addr, "alice", nil)
	g.hold()
	const count = 20
	for i := range count {
		body, err := json.Marshal(map[string]string{"to": "bob", "body": fmt.Sprint(i)})
		require.NoError(t, err)
		alice.send(pack.Message{Seq: int64(i + 1), URI: pack.URIMessage, Body: body})
	}
	g.waitEntered(t, "append")
	bob.echoes()
	alice.echoes()
	g.release()
	for i := range count {
		m := bob.recvSkipHeartbeat()
		require.Equal(t, pack.URIMessage, m.URI)
		require.Equal(t, fmt.Sprint(i), string(m.Body), "messages out of order")
		require.Equal(t, "alice", m.Meta[pack.MetaFrom])
	}
	for i := range count {
		m := alice.recvSkipHeartbeat()
		require.Equal(t, pack.URIReply, m.URI, "%+v", m)
		require.EqualValues(t, i+1, m.Seq)
	}
}
