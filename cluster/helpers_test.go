package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lesismal/nbio/logging"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/cluster"
	"github.com/plexpush/plex/cluster/embedded"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
	"github.com/plexpush/plex/server"
)

func TestMain(m *testing.M) {
	logging.SetLevel(logging.LevelNone)
	goleak.VerifyTestMain(m)
}

const secret = "inner-secret"

// waitFor is generous: the tests run with -race on a loaded 2-core machine.
const waitFor = 20 * time.Second

// natsServers starts n NATS servers with JetStream, clustered over
// loopback routes when n > 1, each stopped when the test ends (unless the
// test stopped it).
func natsServers(t testing.TB, n int) []*embedded.Server {
	t.Helper()
	// JetStream clustering needs every server to have routes configured
	// when it starts: pick the route ports first (every server routes to
	// all, itself included, which NATS ignores).
	var routes []string
	for range n {
		routes = append(routes, "127.0.0.1:"+freePort(t))
	}
	var out []*embedded.Server
	for i := range n {
		cfg := embedded.Config{StoreDir: t.TempDir(), Listen: "127.0.0.1:0", Name: fmt.Sprintf("n%d", i)}
		if n > 1 {
			cfg.ClusterName, cfg.ClusterListen, cfg.Routes = "test", routes[i], routes
		}
		s, err := embedded.Start(cfg)
		require.NoError(t, err)
		out = append(out, s)
		t.Cleanup(s.Shutdown)
	}
	waitJetStream(t, out[0])
	return out
}

// waitJetStream waits until JetStream answers (a cluster elected its meta
// leader), polling with short timeouts.
func waitJetStream(t testing.TB, s *embedded.Server) {
	t.Helper()
	nc, err := s.Connect()
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
		defer cancel()
		_, err := js.AccountInfo(ctx)
		return err == nil
	}, waitFor, 50*time.Millisecond, "JetStream ready")
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func urls(servers []*embedded.Server) string {
	var u []string
	for _, s := range servers {
		u = append(u, s.ClientURL())
	}
	return strings.Join(u, ",")
}

// plexNode is a plex server on a cluster, listening on loopback.
type plexNode struct {
	*server.Server
	c      *cluster.Cluster
	nc     *nats.Conn
	addr   string // app/push TCP
	http   string // HTTP API
	closed bool
}

type nodeOpts struct {
	cfg     server.Config
	ccfg    cluster.Config
	connect []nats.Option
	// addr and http: listen here (a restarted node keeps its addresses);
	// empty: any free loopback port.
	addr, http string
}

// startPlex runs a plex node on the NATS servers at url.
func startPlex(t *testing.T, url, id string, o nodeOpts) *plexNode {
	t.Helper()
	opts := append([]nats.Option{nats.Name(id), nats.MaxReconnects(-1), nats.ReconnectWait(50 * time.Millisecond),
		nats.RetryOnFailedConnect(true), nats.ReconnectJitter(10*time.Millisecond, 10*time.Millisecond)}, o.connect...)
	nc, err := nats.Connect(url, opts...)
	require.NoError(t, err)
	ccfg := o.ccfg
	ccfg.Conn = nc
	if ccfg.Heartbeat == 0 {
		ccfg.Heartbeat = 200 * time.Millisecond
	}
	ccfg.Logger = plog.Test(t).With("node", id)
	c, err := cluster.New(ccfg)
	require.NoError(t, err)
	cfg := o.cfg
	cfg.NodeID = id
	cfg.Bus, cfg.Store = c.Bus(), c.Store()
	cfg.Authenticator = auth.None{}
	cfg.InnerSecret = secret
	cfg.Logger = plog.Test(t) // the server adds its node id
	srv, err := server.New(cfg)
	require.NoError(t, err)
	listen := func(addr string) net.Listener {
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		var ln net.Listener
		require.Eventually(t, func() bool { // a restarted node's port may still be closing
			ln, err = net.Listen("tcp", addr)
			return err == nil
		}, waitFor, 20*time.Millisecond, "listen %s: %v", addr, err)
		return ln
	}
	ln, hln := listen(o.addr), listen(o.http)
	done := make(chan error, 2)
	go func() { done <- srv.Serve(ln) }()
	go func() { done <- srv.ServeAPI(hln) }()
	n := &plexNode{Server: srv, c: c, nc: nc, addr: ln.Addr().String(), http: hln.Addr().String()}
	t.Cleanup(func() {
		if !n.closed {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, srv.Shutdown(ctx))
			nc.Close()
		}
		<-done
		<-done
	})
	return n
}

// stop shuts the node down as an operator would (SIGTERM): it drains and
// closes its NATS connection.
func (n *plexNode) stop(t *testing.T) {
	t.Helper()
	n.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, n.Shutdown(ctx))
	n.nc.Close()
}

// crash stops the node the way a crash would look to the others: its NATS
// connection goes first (no goodbye), then its sockets.
func (n *plexNode) crash() {
	n.closed = true
	n.nc.Close()
	n.Server.Close()
}

// waitReady waits until every node's bus is healthy and the nodes know each
// other.
func waitReady(t *testing.T, nodes ...*plexNode) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, n := range nodes {
			if n.c.Bus().Health() != nil || len(n.c.Bus().Nodes()) != len(nodes) {
				return false
			}
		}
		return true
	}, waitFor, 20*time.Millisecond, "cluster not ready")
}

// app is an app connection (client.Conn) recording what it receives.
type app struct {
	*client.Conn
	uid string

	mu   sync.Mutex
	msgs []pack.Message
	seen map[string]int // body → times received
}

func dialApp(t *testing.T, uid, device string, addrs ...string) *app {
	t.Helper()
	a := newApp(t, uid, client.ConnConfig{Addrs: addrs, Device: device})
	require.NoError(t, a.Connect(ctxTimeout(t, waitFor)))
	return a
}

func newApp(t *testing.T, uid string, cfg client.ConnConfig) *app {
	t.Helper()
	a := &app{uid: uid, seen: make(map[string]int)}
	cfg.Token = plog.Secret(uid)
	cfg.Backoff = client.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}
	cfg.OnMessage = func(m *pack.Message) {
		if pack.Reserved(m.URI) {
			return
		}
		a.mu.Lock()
		a.msgs = append(a.msgs, *m)
		a.seen[string(m.Body)]++
		a.mu.Unlock()
	}
	c, err := client.NewConn(cfg)
	require.NoError(t, err)
	a.Conn = c
	t.Cleanup(func() { c.Close() })
	return a
}

func (a *app) count(body string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen[body]
}

func (a *app) has(bodies ...string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, b := range bodies {
		if a.seen[b] == 0 {
			return false
		}
	}
	return true
}

func (a *app) received() []pack.Message {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.msgs)
}

// waitHas waits until a received every body.
func (a *app) waitHas(t *testing.T, bodies ...string) {
	t.Helper()
	require.Eventually(t, func() bool { return a.has(bodies...) }, waitFor, 10*time.Millisecond,
		"%s did not receive all of %d bodies; got %d messages", a.uid, len(bodies), len(a.received()))
}

// requireOnce checks that every body arrived exactly once.
func (a *app) requireOnce(t *testing.T, bodies ...string) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, b := range bodies {
		require.Equal(t, 1, a.seen[b], "%s: %q received %d times", a.uid, b, a.seen[b])
	}
}

// persistentSeqs returns the seqs of the persistent messages received, in order.
func (a *app) persistentSeqs() []int64 {
	var out []int64
	for _, m := range a.received() {
		if m.Get(pack.MetaPersist) == "1" {
			out = append(out, m.Seq)
		}
	}
	return out
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// host asks a node's GET /plex/v1/host.
func host(t *testing.T, httpAddr string) string {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/plex/v1/host")
	require.NoError(t, err)
	defer resp.Body.Close()
	var v struct{ Host string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	return v.Host
}

// get returns the status code of GET url.
func getStatus(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// httpPush sends a push through a node's HTTP API.
func httpPush(t *testing.T, httpAddr, body string) server.Outcome {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+httpAddr+"/plex/v1/push", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, 200, resp.StatusCode, "push %s: %s", body, b)
	var out server.Outcome
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

// noRandomize makes a node try the NATS servers in the order given.
var noRandomize = []nats.Option{nats.DontRandomize()}
