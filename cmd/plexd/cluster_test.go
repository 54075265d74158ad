package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/cluster/embedded"
	"github.com/plexpush/plex/pack"
)

// plexd is one in-process run of the daemon.
type plexd struct {
	addrs  map[string]string
	cancel context.CancelFunc
	code   chan int
	stdout *syncBuf
	stderr *syncBuf
}

// startWait bounds runPlexd's wait for the ready file. A clustered node
// may take up to peerCheckWait before it is written (its peers' answers,
// e.g. TLS routes on a loaded machine), so the bound is well over that.
const startWait = peerCheckWait + 20*time.Second

func runPlexd(t *testing.T, args ...string) *plexd {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready.json")
	ctx, cancel := context.WithCancel(context.Background())
	p := &plexd{cancel: cancel, code: make(chan int, 1), stdout: &syncBuf{}, stderr: &syncBuf{}}
	args = append([]string{"-addr", "127.0.0.1:0", "-http", "127.0.0.1:0", "-inner-secret", "s3cret", "-ready-file", ready}, args...)
	go func() { p.code <- run(ctx, args, noEnv, p.stdout, p.stderr) }()
	require.Eventually(t, func() bool {
		select {
		case c := <-p.code:
			p.code <- c
			return true
		default:
		}
		b, err := os.ReadFile(ready)
		return err == nil && json.Unmarshal(b, &p.addrs) == nil
	}, startWait, 10*time.Millisecond)
	require.NotEmpty(t, p.addrs, "plexd did not start: %s", p.stderr.String())
	t.Cleanup(func() { p.stop(t) })
	return p
}

func (p *plexd) stop(t *testing.T) {
	if p.cancel == nil {
		return
	}
	p.cancel()
	p.cancel = nil
	select {
	case c := <-p.code:
		require.Equal(t, 0, c, p.stderr.String())
	case <-time.After(15 * time.Second):
		t.Fatal("plexd did not stop")
	}
	http.DefaultClient.CloseIdleConnections()
}

func (p *plexd) push(t *testing.T, body string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+p.addrs["http"]+"/plex/v1/push", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

func (p *plexd) status(path string) int {
	resp, err := http.Get("http://" + p.addrs["http"] + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// login authenticates uid (acking app, device d1) and returns a reader.
func login(t *testing.T, addr, uid string) (*pack.Reader, net.Conn) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	w := pack.NewWriter(c, pack.BigEndian, pack.JSON)
	r := pack.NewReader(c, pack.BigEndian, pack.JSON, 0)
	m := pack.Message{URI: pack.URIAuth, Body: []byte(uid), Meta: map[string]string{pack.MetaAcks: "1", pack.MetaDevice: "d1"}}
	require.NoError(t, w.WriteMessage(&m))
	require.NoError(t, w.Flush())
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	var got pack.Message
	require.NoError(t, r.ReadMessage(&got))
	require.Equal(t, pack.URIAuthSuccess, got.URI)
	return r, c
}

// TestRestartKeepsStoredPushes: by default plexd embeds NATS with its
// files in the data directory; a push stored for an offline user is
// delivered after a restart.
func TestRestartKeepsStoredPushes(t *testing.T) {
	dir := t.TempDir()
	p := runPlexd(t, "-data-dir", dir)
	require.Contains(t, p.stdout.String(), "data "+dir)
	out := p.push(t, `{"uid":"alice","uri":"/p","body":"while you were away","persist":true}`)
	require.EqualValues(t, 1, out["stored"])
	require.EqualValues(t, 1, out["offline"])
	seq := int64(out["seq"].(float64))
	p.stop(t)

	p = runPlexd(t, "-data-dir", dir)
	r, _ := login(t, p.addrs["addr"], "alice")
	var m pack.Message
	require.NoError(t, r.ReadMessage(&m))
	require.Equal(t, "while you were away", string(m.Body))
	require.Equal(t, seq, m.Seq)
	require.Equal(t, "1", m.Get(pack.MetaPersist))

	out = p.push(t, `{"uid":"alice","uri":"/p","body":"next","persist":true}`)
	require.Greater(t, int64(out["seq"].(float64)), seq, "seqs keep increasing across restarts")
}

// TestDataDirLocked: two plexd never share an embedded store.
func TestDataDirLocked(t *testing.T) {
	dir := t.TempDir()
	runPlexd(t, "-data-dir", dir)
	var stderr syncBuf
	code := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-http", "", "-data-dir", dir}, noEnv, &syncBuf{}, &stderr)
	require.Equal(t, 1, code)
	require.Contains(t, stderr.String(), "in use by another plexd")
}

// TestRandomPortUsesTemporaryStore: with -addr …:0 and no -data-dir the
// store is a temporary directory, removed at exit.
func TestRandomPortUsesTemporaryStore(t *testing.T) {
	p := runPlexd(t)
	out := p.stdout.String()
	require.Contains(t, out, "(temporary")
	i := strings.Index(out, "data ")
	dir := strings.Fields(out[i+len("data "):])[0]
	require.DirExists(t, dir)
	p.stop(t)
	require.NoDirExists(t, dir)
}

// TestExternalNATSUnreachable: with -nats and no NATS there, plexd starts,
// says it is not ready and why, and becomes ready when NATS comes.
func TestExternalNATSUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	p := runPlexd(t, "-nats", url, "-node-heartbeat", "100ms")
	require.Equal(t, 503, p.status("/readyz"))
	require.Contains(t, p.stderr.String(), "NATS unreachable")
	require.Equal(t, 200, p.status("/healthz"), "alive, only not ready")

	ns, err := embedded.Start(embedded.Config{StoreDir: t.TempDir(), Listen: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))})
	require.NoError(t, err)
	defer ns.Shutdown()
	require.Eventually(t, func() bool { return p.status("/readyz") == 200 }, 20*time.Second, 20*time.Millisecond)
	out := p.push(t, `{"uid":"alice","uri":"/p","body":"x","persist":true}`)
	require.EqualValues(t, 1, out["stored"])
	p.stop(t)
}

// TestStaleTemporaryStoresSwept: a temporary store left by a killed plexd
// (its lock free) is removed by the next plexd that makes one; one in use
// is kept.
func TestStaleTemporaryStoresSwept(t *testing.T) {
	live := runPlexd(t)
	liveDir := strings.Fields(live.stdout.String()[strings.Index(live.stdout.String(), "data ")+5:])[0]
	stale, err := os.MkdirTemp("", tempPrefix)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(stale, "plexd.lock"), nil, 0o600))
	runPlexd(t)
	require.NoDirExists(t, stale)
	require.DirExists(t, liveDir)
}
