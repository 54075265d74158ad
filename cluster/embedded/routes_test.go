package embedded_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/cluster/embedded"
	"github.com/plexpush/plex/internal/testcert"
)

// refusals collects a server's RouteRefused calls.
type refusals struct {
	mu  sync.Mutex
	got []embedded.RouteRefusal
}

func (r *refusals) add(x embedded.RouteRefusal) {
	r.mu.Lock()
	r.got = append(r.got, x)
	r.mu.Unlock()
}

// find returns the first refusal that matches.
func (r *refusals) find(match func(embedded.RouteRefusal) bool) (embedded.RouteRefusal, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.got {
		if match(x) {
			return x, true
		}
	}
	return embedded.RouteRefusal{}, false
}

// member starts a cluster member on listen, routing to routes (JetStream
// in a cluster needs at least one route, even to a member not up yet).
func member(t *testing.T, listen string, cfg embedded.Config, routes ...string) *embedded.Server {
	t.Helper()
	cfg.StoreDir, cfg.ClusterListen, cfg.Routes = t.TempDir(), listen, routes
	if cfg.ClusterName == "" {
		cfg.ClusterName = "c"
	}
	s, err := embedded.Start(cfg)
	require.NoError(t, err)
	t.Cleanup(s.Shutdown)
	return s
}

// freeAddr returns a loopback address free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// tlsFor makes a member's route TLS from a certificate of ca, trusting
// trust (ca itself, normally).
func tlsFor(t *testing.T, ca, trust *testcert.CA, name string) *tls.Config {
	t.Helper()
	certPEM, keyPEM, err := ca.Issue(name)
	require.NoError(t, err)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(trust.PEM))
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, ClientCAs: pool}
}

// Each disagreement between two members reaches RouteRefused on the
// member that dialled, naming the peer's route address: the log lines
// that nats-server has instead of a callback are parsed right (this pins
// their wording for the nats-server version in go.mod).
func TestRouteRefusals(t *testing.T) {
	ca, err := testcert.NewCA()
	require.NoError(t, err)
	other, err := testcert.NewCA()
	require.NoError(t, err)
	for _, tc := range []struct {
		name       string
		a, b       embedded.Config
		wantReason string
	}{
		{"cluster name", embedded.Config{ClusterName: "one"}, embedded.Config{ClusterName: "two"}, `cluster name "two" does not match "one"`},
		{"secret", embedded.Config{ClusterSecret: "s1"}, embedded.Config{ClusterSecret: "s2"}, "Authorization Violation"},
		// b does not trust a's certificate (b's refusal: a's is a
		// handshake error too, with b's source port)
		{"untrusted certificate", embedded.Config{ClusterTLS: tlsFor(t, ca, ca, "a")}, embedded.Config{ClusterTLS: tlsFor(t, other, other, "b")}, "TLS route handshake error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addrA, addrB := freeAddr(t), freeAddr(t)
			member(t, addrA, tc.a, addrB)
			var rb refusals
			tc.b.RouteRefused = rb.add
			member(t, addrB, tc.b, addrA)
			var got embedded.RouteRefusal
			require.Eventually(t, func() bool {
				var ok bool
				got, ok = rb.find(func(r embedded.RouteRefusal) bool { return r.Remote == addrA })
				return ok
			}, 10*time.Second, 20*time.Millisecond, "b's route to a refused")
			require.Contains(t, got.Reason, tc.wantReason)
		})
	}
}

// Members with certificates of one CA cluster over TLS routes; ProbePeer
// reads a peer's identity and checks its certificate; a member that does
// not trust the peers' CA is refused and forms no route.
func TestRouteTLS(t *testing.T) {
	ca, err := testcert.NewCA()
	require.NoError(t, err)
	addrA, addrB, addrC := freeAddr(t), freeAddr(t), freeAddr(t)
	a := member(t, addrA, embedded.Config{Name: "a", ClusterSecret: "s", ClusterTLS: tlsFor(t, ca, ca, "a")}, addrB)
	b := member(t, addrB, embedded.Config{Name: "b", ClusterSecret: "s", ClusterTLS: tlsFor(t, ca, ca, "b")}, addrA)
	require.Eventually(t, func() bool { return a.RoutedTo(b.ID()) && b.RoutedTo(a.ID()) }, 10*time.Second, 20*time.Millisecond)

	// messages cross the TLS route
	na, err := a.Connect()
	require.NoError(t, err)
	defer na.Close()
	nb, err := b.Connect()
	require.NoError(t, err)
	defer nb.Close()
	sub, err := nb.SubscribeSync("x")
	require.NoError(t, err)
	require.NoError(t, nb.Flush())
	require.Eventually(t, func() bool {
		_ = na.Publish("x", []byte("over tls"))
		m, err := sub.NextMsg(50 * time.Millisecond)
		return err == nil && string(m.Data) == "over tls"
	}, 10*time.Second, 10*time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := embedded.ProbePeer(ctx, addrA, tlsFor(t, ca, ca, "probe"))
	require.NoError(t, err)
	require.Equal(t, embedded.Peer{ID: a.ID(), Name: "a", Cluster: "c", TLSRequired: true, Addr: addrA}, p)

	other, err := testcert.NewCA()
	require.NoError(t, err)
	var te *embedded.TLSError
	_, err = embedded.ProbePeer(ctx, addrA, tlsFor(t, other, other, "stranger"))
	require.True(t, errors.As(err, &te), "the peer's certificate is of a CA not trusted: %v", err)
	_, err = embedded.ProbePeer(ctx, addrA, tlsFor(t, other, ca, "stranger"))
	require.True(t, errors.As(err, &te), "the peer does not trust this certificate's CA: %v", err)
	_, err = embedded.ProbePeer(ctx, addrA, nil)
	require.ErrorIs(t, err, embedded.ErrNoInfo, "plain probe of a TLS peer")

	// a member with a certificate of another CA (and trusting only that
	// one) joins nobody; it sees the refusal on the route it dials
	var rc refusals
	c := member(t, addrC, embedded.Config{Name: "c", ClusterSecret: "s", ClusterTLS: tlsFor(t, other, other, "c"), RouteRefused: rc.add}, addrA)
	require.Eventually(t, func() bool {
		_, ok := rc.find(func(r embedded.RouteRefusal) bool { return r.Remote == addrA && strings.Contains(r.Reason, "TLS") })
		return ok
	}, 10*time.Second, 20*time.Millisecond)
	require.False(t, a.RoutedTo(c.ID()))
	require.False(t, c.RoutedTo(a.ID()))
}
