package server_test

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/lesismal/nbio/logging"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/plexpush/plex/internal/testmetrics"
	"github.com/plexpush/plex/internal/testnode"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

func TestMain(m *testing.M) {
	if os.Getenv(quietChildEnv) == "1" {
		quietChild() // TestNBIOIsSilent's child: nbio's level as a fresh process has it
		os.Exit(0)
	}
	logging.SetLevel(logging.LevelNone)
	goleak.VerifyTestMain(m)
}

const secret = testnode.Secret

// node is a server under test listening on loopback (internal/testnode).
type node = testnode.Node

// startNode runs a server with auth.None and the inner secret unless cfg
// says otherwise; it is shut down when the test ends.
func startNode(t *testing.T, cfg server.Config) *node { return testnode.Start(t, cfg) }

// peer is a raw protocol client: what an app or push client written to the
// spec sends, byte for byte.
type peer struct {
	t     *testing.T
	c     net.Conn
	r     *pack.Reader
	w     *pack.Writer
	order pack.Order
	codec pack.Codec
}

// startInnerNode serves cfg (InnerAddr set) on an app listener and a push
// client listener, both on loopback; it returns their addresses.
func startInnerNode(t *testing.T, cfg server.Config) (srv *server.Server, addr, inner string) {
	t.Helper()
	srv, err := server.New(cfg)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	iln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	go func() { _ = srv.ServeInner(iln) }()
	t.Cleanup(func() { srv.Close() })
	return srv, ln.Addr().String(), iln.Addr().String()
}

func dial(t *testing.T, addr string) *peer { return dialWith(t, addr, pack.BigEndian, pack.JSON) }

func dialWith(t *testing.T, addr string, o pack.Order, c pack.Codec) *peer {
	t.Helper()
	return dialer(t, net.Dialer{Timeout: 5 * time.Second}, addr, o, c)
}

// dialer dials addr with d (e.g. from a chosen source address) and
// returns the raw peer, closed at cleanup.
func dialer(t *testing.T, d net.Dialer, addr string, o pack.Order, c pack.Codec) *peer {
	t.Helper()
	nc, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	return &peer{t: t, c: nc, r: pack.NewReader(nc, o, c, 16<<20), w: pack.NewWriter(nc, o, c), order: o, codec: c}
}

func (p *peer) send(m pack.Message) {
	p.t.Helper()
	require.NoError(p.t, p.w.WriteMessage(&m))
	require.NoError(p.t, p.w.Flush())
}

func (p *peer) sendRaw(b []byte) {
	p.t.Helper()
	_, err := p.c.Write(b)
	require.NoError(p.t, err)
}

// recv reads the next message, failing the test after 5 s.
func (p *peer) recv() pack.Message {
	p.t.Helper()
	m, err := p.tryRecv(5 * time.Second)
	require.NoError(p.t, err)
	return m
}

func (p *peer) tryRecv(d time.Duration) (pack.Message, error) {
	_ = p.c.SetReadDeadline(time.Now().Add(d))
	var m pack.Message
	err := p.r.ReadMessage(&m)
	return m, err
}

// recvURI skips heartbeats and returns the next message.
func (p *peer) recvSkipHeartbeat() pack.Message {
	p.t.Helper()
	for {
		m := p.recv()
		if m.URI != pack.URIHeartbeat {
			return m
		}
	}
}

// expectClosed asserts that the node sends a final frame with uri and code
// and then closes the connection.
func (p *peer) expectClosed(uri string, code pack.Code) pack.Message {
	p.t.Helper()
	m := p.recvSkipHeartbeat()
	require.Equal(p.t, uri, m.URI, "final frame: %+v", m)
	require.Equal(p.t, code, pack.ErrorOf(&m).Code, "code in %+v", m)
	p.expectEOF()
	return m
}

func (p *peer) expectEOF() {
	p.t.Helper()
	_, err := p.tryRecv(5 * time.Second)
	require.True(p.t, errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err), "want EOF, got %v", err)
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// app dials and authenticates an app with uid as the token (auth.None).
func app(t *testing.T, addr, uid string, meta map[string]string) *peer {
	t.Helper()
	p := dial(t, addr)
	p.auth(uid, meta)
	return p
}

func (p *peer) auth(token string, meta map[string]string) server.AuthInfo {
	p.t.Helper()
	p.send(pack.Message{URI: pack.URIAuth, Body: []byte(token), Meta: meta})
	m := p.recv()
	require.Equal(p.t, pack.URIAuthSuccess, m.URI, "auth reply: %+v", m)
	var info server.AuthInfo
	require.NoError(p.t, json.Unmarshal(m.Body, &info))
	return info
}

// pusher dials and authenticates a push client.
func pusher(t *testing.T, addr string) *peer {
	t.Helper()
	p := dial(t, addr)
	p.send(pack.Message{URI: pack.URIInnerAuth, Body: []byte(secret)})
	m := p.recv()
	require.Equal(t, pack.URIAuthSuccess, m.URI, "inner auth reply: %+v", m)
	return p
}

// push sends a request/reply push and returns the outcome.
func (p *peer) push(seq int64, req server.PushRequest) (server.Outcome, *pack.CodeError) {
	p.t.Helper()
	body, err := json.Marshal(req)
	require.NoError(p.t, err)
	p.send(pack.Message{Seq: seq, URI: pack.URIPush, Body: body})
	m := p.recv()
	require.Equal(p.t, seq, m.Seq, "reply seq: %+v", m)
	if m.URI == pack.URIError {
		return server.Outcome{}, pack.ErrorOf(&m)
	}
	require.Equal(p.t, pack.URIReply, m.URI)
	var out server.Outcome
	require.NoError(p.t, json.Unmarshal(m.Body, &out))
	return out, nil
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, 5*time.Millisecond, msg)
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return ln
}

// metricValue reads one counter sample (label value lv of its only label)
// from the node's /metrics.
func metricValue(t *testing.T, n *node, name, lv string) float64 {
	t.Helper()
	return testmetrics.Value(t, n.Handler(), name, lv)
}
