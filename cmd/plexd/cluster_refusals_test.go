package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/internal/testcert"
	"github.com/plexpush/plex/pack"
)

// startRefused runs plexd with args (after runPlexd's defaults) and
// returns its stderr once it exited; it must exit with 1 within the bound
// (peerCheckWait and then some).
func startRefused(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr syncBuf
	args = append([]string{"-addr", "127.0.0.1:0", "-http", "127.0.0.1:0", "-inner-secret", "s3cret"}, args...)
	code := make(chan int, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { code <- run(ctx, args, noEnv, &stdout, &stderr) }()
	select {
	case c := <-code:
		require.Equal(t, 1, c, "exit code; stderr: %s", stderr.String())
	case <-time.After(peerCheckWait + 20*time.Second):
		cancel()
		<-code
		t.Fatalf("plexd %v started; want a refusal. stderr: %s", args, stderr.String())
	}
	return stderr.String()
}

// clusterArgs are a node's flags in a cluster of the routes given.
func clusterArgs(dir, listen string, routes []string, extra ...string) []string {
	return append([]string{"-data-dir", dir, "-cluster-listen", listen, "-cluster-peers", strings.Join(routes, ","),
		"-node-heartbeat", "200ms"}, extra...)
}

// A node whose named peer is up but disagrees on the cluster name, the
// inner secret (the routes' credentials) or the NATS prefix exits at
// start saying which, instead of serving alone as if clustered.
func TestClusterRefusesPeersThatDisagree(t *testing.T) {
	routes := []string{freeAddr(t), freeAddr(t)}
	runPlexd(t, clusterArgs(t.TempDir(), routes[0], routes, "-cluster-name", "blue")...)
	for _, tc := range []struct {
		name  string
		extra []string
		want  []string
	}{
		{"cluster name", []string{"-cluster-name", "green"}, []string{routes[0], `is in NATS cluster "blue", this node in "green"`, "-cluster-name"}},
		{"inner secret", []string{"-cluster-name", "blue", "-inner-secret", "other"}, []string{routes[0], "Authorization Violation", "different -inner-secret"}},
		{"prefix", []string{"-cluster-name", "blue", "-nats-prefix", "other"}, []string{routes[0], `uses -nats-prefix "plex", this node "other"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := startRefused(t, clusterArgs(t.TempDir(), routes[1], routes, tc.extra...)...)
			for _, w := range tc.want {
				require.Contains(t, out, w)
			}
		})
	}
	// the same settings join
	b := runPlexd(t, clusterArgs(t.TempDir(), routes[1], routes, "-cluster-name", "blue")...)
	require.Eventually(t, func() bool { return b.status("/readyz?store=1") == 200 }, 60*time.Second, 50*time.Millisecond, b.stderr.String())
}

// A node may list itself among its peers once (the same list on every
// node), under any spelling; twice is refused, and a self found under
// another spelling is not counted as a replica: two nodes that list
// themselves as localhost:port make R2 streams (R3 with only two servers
// would never be stored).
func TestClusterPeersNameSelf(t *testing.T) {
	routes := []string{freeAddr(t), freeAddr(t)}
	local := func(addr string) string { _, port, _ := strings.Cut(addr, ":"); return "localhost:" + port }
	out := startRefused(t, clusterArgs(t.TempDir(), routes[0], []string{routes[0], local(routes[0])})...)
	require.Contains(t, out, "names this node twice")

	a := runPlexd(t, clusterArgs(t.TempDir(), routes[0], []string{local(routes[0]), routes[1]})...)
	b := runPlexd(t, clusterArgs(t.TempDir(), routes[1], []string{routes[0], local(routes[1])})...)
	for _, p := range []*plexd{a, b} {
		require.Eventually(t, func() bool { return p.status("/readyz?store=1") == 200 }, 60*time.Second, 50*time.Millisecond,
			"two replicas on two nodes: %s", p.stderr.String())
	}
}

// A data directory whose JetStream cluster state belongs to another
// server name is refused, saying which; so is a node whose data directory
// was copied from a running peer (both have one server name).
func TestClusterRefusesAnotherServersDataDir(t *testing.T) {
	routes := []string{freeAddr(t), freeAddr(t)}
	dir := t.TempDir()
	a := runPlexd(t, clusterArgs(dir, routes[0], routes)...)
	meta := filepath.Join(dir, "nats", "jetstream", "$SYS", "_js_", "_meta_", "peers.idx")
	require.Eventually(t, func() bool { _, err := os.Stat(meta); return err == nil }, 30*time.Second, 50*time.Millisecond)

	// a copy of a's name file on another node, while a runs
	copied := t.TempDir()
	name, err := os.ReadFile(filepath.Join(dir, serverNameFile))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(copied, serverNameFile), name, 0o600))
	out := startRefused(t, clusterArgs(copied, routes[1], routes)...)
	require.Contains(t, out, "runs under this node's NATS server name "+`"`+strings.TrimSpace(string(name))+`"`)
	a.stop(t)

	// a's name file changed, then missing
	require.NoError(t, os.WriteFile(filepath.Join(dir, serverNameFile), []byte("plexd-someone-else\n"), 0o600))
	out = startRefused(t, clusterArgs(dir, routes[0], routes)...)
	require.Contains(t, out, "belongs to another NATS server")
	require.Contains(t, out, `says "plexd-someone-else"`)
	require.Contains(t, out, natsNodeID(strings.TrimSpace(string(name))), "names the server that wrote the state")
	require.NoError(t, os.Remove(filepath.Join(dir, serverNameFile)))
	out = startRefused(t, clusterArgs(dir, routes[0], routes)...)
	require.Contains(t, out, "file is missing")
	require.NoFileExists(t, filepath.Join(dir, serverNameFile), "no new name kept for another's state")

	// the right name back: it starts
	require.NoError(t, os.WriteFile(filepath.Join(dir, serverNameFile), name, 0o600))
	runPlexd(t, clusterArgs(dir, routes[0], routes)...)
}

// routeCerts writes a certificate and key of ca and ca's bundle under dir
// and returns the -cluster-tls-* flags that use them.
func routeCerts(t *testing.T, ca *testcert.CA, dir, name string) []string {
	t.Helper()
	certPEM, keyPEM, err := ca.Issue(name)
	require.NoError(t, err)
	cert, key, bundle := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key"), filepath.Join(dir, name+"-ca.pem")
	require.NoError(t, os.WriteFile(cert, certPEM, 0o600))
	require.NoError(t, os.WriteFile(key, keyPEM, 0o600))
	require.NoError(t, os.WriteFile(bundle, ca.PEM, 0o600))
	return []string{"-cluster-tls-cert", cert, "-cluster-tls-key", key, "-cluster-tls-ca", bundle}
}

// Two nodes cluster over TLS routes (certificates of one CA, each side
// verifying the other); a node with a certificate of another CA, or
// without TLS, is refused at start.
func TestClusterRoutesTLS(t *testing.T) {
	ca, err := testcert.NewCA()
	require.NoError(t, err)
	certs := t.TempDir()
	routes := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	a := runPlexd(t, clusterArgs(t.TempDir(), routes[0], routes[:2], append(routeCerts(t, ca, certs, "a"), "-node", "a")...)...)
	b := runPlexd(t, clusterArgs(t.TempDir(), routes[1], routes[:2], append(routeCerts(t, ca, certs, "b"), "-node", "b")...)...)
	for _, p := range []*plexd{a, b} {
		require.Eventually(t, func() bool { return p.status("/readyz?store=1") == 200 }, 60*time.Second, 50*time.Millisecond, p.stderr.String())
	}
	require.Contains(t, a.stdout.String(), "with TLS", "the banner says the routes are TLS")
	r, _ := login(t, b.addrs["addr"], "alice")
	out := a.push(t, `{"uid":"alice","uri":"/p","body":"over tls routes","persist":true}`)
	require.EqualValues(t, 1, out["stored"], "%v", out)
	got := nextPush(t, r)
	require.Equal(t, "over tls routes", string(got.Body))

	other, err := testcert.NewCA()
	require.NoError(t, err)
	stderr := startRefused(t, clusterArgs(t.TempDir(), routes[2], routes, routeCerts(t, other, certs, "c")...)...)
	require.Contains(t, stderr, "route TLS handshake failed")
	stderr = startRefused(t, clusterArgs(t.TempDir(), routes[2], routes)...)
	require.Contains(t, stderr, "requires TLS on routes")
}

// Route TLS settings that cannot work are refused before anything starts.
func TestClusterTLSFlagsValidated(t *testing.T) {
	for _, args := range [][]string{
		{"-cluster-tls-cert", "c.pem", "-cluster-tls-key", "k.pem"}, // no -cluster-listen
		{"-cluster-listen", "127.0.0.1:7001", "-inner-secret", "x", "-cluster-tls-cert", "c.pem"},
		{"-cluster-listen", "127.0.0.1:7001", "-inner-secret", "x", "-cluster-tls-ca", "ca.pem"},
	} {
		_, err := parseOptions(args, noEnv)
		require.Error(t, err, "%v", args)
	}
}

// nextPush reads r's next message that is not a heartbeat.
func nextPush(t *testing.T, r *pack.Reader) pack.Message {
	t.Helper()
	var m pack.Message
	require.NoError(t, r.ReadMessage(&m))
	for m.URI == pack.URIHeartbeat {
		require.NoError(t, r.ReadMessage(&m))
	}
	return m
}
