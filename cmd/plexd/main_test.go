package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/plexpush/plex/pack"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func noEnv(string) string { return "" }

func TestRunServesAndShutsDown(t *testing.T) {
	p := runPlexd(t, "-upstream", "echo")
	addrs := p.addrs

	c, err := net.Dial("tcp", addrs["addr"])
	require.NoError(t, err)
	defer c.Close()
	w := pack.NewWriter(c, pack.BigEndian, pack.JSON)
	r := pack.NewReader(c, pack.BigEndian, pack.JSON, 0)
	require.NoError(t, w.WriteMessage(&pack.Message{URI: pack.URIAuth, Body: []byte("alice")}))
	require.NoError(t, w.WriteMessage(&pack.Message{URI: "/echo", Body: []byte("hi")}))
	require.NoError(t, w.Flush())
	var m pack.Message
	require.NoError(t, r.ReadMessage(&m))
	require.Equal(t, pack.URIAuthSuccess, m.URI)
	require.NoError(t, r.ReadMessage(&m))
	require.Equal(t, "/echo", m.URI, "upstream echo")

	req, _ := http.NewRequest("POST", "http://"+addrs["http"]+"/plex/v1/push",
		strings.NewReader(`{"uid":"alice","uri":"/hello","body":"world"}`))
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.NoError(t, r.ReadMessage(&m))
	require.Equal(t, "world", string(m.Body))

	p.stop(t) // SIGTERM: exit code 0
	require.NoError(t, r.ReadMessage(&m))
	require.Equal(t, pack.URIDisconnect, m.URI)
	require.Equal(t, pack.CodeShutdown, pack.ErrorOf(&m).Code)
	require.Contains(t, p.stdout.String(), "listening")
	require.NotContains(t, p.stdout.String()+p.stderr.String(), "s3cret", "a configured secret is never printed")
}

func TestAuthNoneRefusesPublicAddress(t *testing.T) {
	var stderr syncBuf
	code := run(context.Background(), []string{"-addr", "0.0.0.0:0", "-http", ""}, noEnv, &syncBuf{}, &stderr)
	require.Equal(t, 1, code)
	require.Contains(t, stderr.String(), "-force")
}

func TestOptionsPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "plexd.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"max-frame": 2097152, "order": "little", "heartbeat": "5s", "node": "file"}`), 0o600))
	env := map[string]string{"PLEX_NODE": "env", "PLEX_ORDER": "big"}
	o, err := parseOptions([]string{"-config", cfg, "-order", "little"}, func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, 2097152, o.MaxFrame, "file")
	require.Equal(t, 5*time.Second, o.Heartbeat, "file")
	require.Equal(t, "env", o.Node, "env beats file")
	require.Equal(t, "little", o.Order, "flag beats env")

	require.NoError(t, os.WriteFile(cfg, []byte(`{"no-such-flag": 1}`), 0o600))
	_, err = parseOptions([]string{"-config", cfg}, noEnv)
	require.ErrorContains(t, err, "unknown key")
	_, err = parseOptions([]string{"-heartbeat", "x"}, noEnv)
	require.Error(t, err)

	// a flag of another auth is refused from every source, not only the command line
	_, err = parseOptions(nil, func(k string) string { return map[string]string{"PLEX_JWT_SECRET": "/x"}[k] })
	require.ErrorContains(t, err, "-jwt-secret is only used with -auth jwt")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"webhook": "http://127.0.0.1:1/auth"}`), 0o600))
	_, err = parseOptions([]string{"-config", cfg}, noEnv)
	require.ErrorContains(t, err, "-webhook is only used with -auth webhook")
}

func TestBadSettingsFail(t *testing.T) {
	for _, args := range [][]string{
		{"-order", "middle"},
		{"-codec", "xml"},
		{"-auth", "magic"},
		{"-upstream", "nowhere"},
		{"-auth", "jwt"}, // no key
		{"-log-level", "loud"},
		{"-max-frame", "-5"},
		{"-max-frame", "100"},
		{"-write-queue", "-1"},
		{"-nats-replicas", "7"},
		{"-heartbeat", "-1s"},
		{"-heartbeat", "10s", "-heartbeat-timeout", "5s"},
		{"-auth", "none", "-jwt-secret", "/nonexistent"},
		{"-auth", "jwt", "-jwt-secret", "/nonexistent", "-webhook", "http://127.0.0.1:1/auth"},
	} {
		var stderr syncBuf
		code := run(context.Background(), append(args, "-addr", "127.0.0.1:0", "-http", ""), noEnv, &syncBuf{}, &stderr)
		require.NotEqual(t, 0, code, "%v", args)
		require.NotEmpty(t, stderr.String(), "%v", args)
	}
}

func TestAppsFromConfigAndSIGHUPReload(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "plexd.json")
	write := func(apps string) {
		require.NoError(t, os.WriteFile(cfg, []byte(`{"apps":[`+apps+`]}`), 0o600))
	}
	write(`{"id":"shop","auth":"none","inner-secret":"shop-secret","messages":true}`)
	p := runPlexd(t, "-config", cfg)
	addrs, stderr := p.addrs, p.stderr

	login := func(app string) pack.Message {
		c, err := net.Dial("tcp", addrs["addr"])
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		w := pack.NewWriter(c, pack.BigEndian, pack.JSON)
		require.NoError(t, w.WriteMessage(&pack.Message{URI: pack.URIAuth, Body: []byte("alice"), Meta: map[string]string{pack.MetaApp: app}}))
		require.NoError(t, w.Flush())
		var m pack.Message
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		require.NoError(t, pack.NewReader(c, pack.BigEndian, pack.JSON, 0).ReadMessage(&m))
		return m
	}
	require.Equal(t, pack.URIAuthSuccess, login("shop").URI)
	require.Equal(t, pack.URIAuthFailed, login("games").URI, "not configured yet")

	// games by the key's former name: files written for it keep working
	write(`{"id":"shop","auth":"none","inner-secret":"shop-secret"},{"id":"games","auth":"none","push-secret":"games-secret"}`)
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	require.Eventually(t, func() bool { return login("games").URI == pack.URIAuthSuccess }, 5*time.Second, 50*time.Millisecond)
	require.Contains(t, stderr.String(), "push-secret is now inner-secret")

	// bad files keep the running apps, each with its reason: an app whose
	// settings are incomplete, a misspelt app key, a key start-up refuses
	for i, bad := range []string{
		`{"apps":[{"id":"broken","inner-secret":""}]}`,
		`{"apps":[{"id":"games","auth":"none","inner-secret":"games-secret","pushsecret":"x"}]}`,
		`{"apps":[{"id":"games","auth":"none","inner-secret":"games-secret"}],"no-such-flag":1}`,
		`{"apps":[{"id":"games","auth":"none","inner-secret":"games-secret","push-secret":"other"}]}`,
		`{"apps":[{"id":"games","auth":"none","inner-secret":"games-secret","ack-timeout":"soon"}]}`,
	} {
		require.NoError(t, os.WriteFile(cfg, []byte(bad), 0o600))
		require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
		require.Eventually(t, func() bool { return strings.Count(stderr.String(), "keeping the current ones") == i+1 },
			5*time.Second, 20*time.Millisecond, bad)
		require.Equal(t, pack.URIAuthSuccess, login("games").URI)
		require.Equal(t, pack.URIAuthSuccess, login("shop").URI)
	}

	// a node setting changed in the file is named: it needs a restart
	require.NoError(t, os.WriteFile(cfg, []byte(`{"apps":[{"id":"shop","auth":"none","inner-secret":"shop-secret"}],"inner-secret":"changed-secret-0123456789"}`), 0o600))
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "keys=inner-secret") }, 5*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return login("games").URI == pack.URIAuthFailed }, 5*time.Second, 50*time.Millisecond, "apps reloaded all the same")
}

func TestMemoryStoreNeedsNoNATS(t *testing.T) {
	o, err := parseOptions([]string{"-store", "memory", "-addr", "127.0.0.1:0", "-http", ""}, noEnv)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuf
	n, err := start(ctx, o, &out, &syncBuf{})
	require.NoError(t, err)
	require.Nil(t, n.cl.nc, "no NATS connection with -store memory")
	cancel()
	require.NoError(t, n.wait(ctx))
	var stderr syncBuf
	require.Equal(t, 1, run(context.Background(), []string{"-store", "disk", "-addr", "127.0.0.1:0"}, noEnv, &syncBuf{}, &stderr), stderr.String())
	require.Contains(t, stderr.String(), "-store")
}
