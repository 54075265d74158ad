package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBannerLeadsToAnAppAndTheConsole: the banner prints one line that
// connects an app and the console's URL, besides discovery and a push.
func TestBannerLeadsToAnAppAndTheConsole(t *testing.T) {
	p := runPlexd(t)
	out := p.stdout.String()
	require.Contains(t, out, "connect an app    go run ../../examples/app -addr "+p.addrs["addr"]+" -token alice\n",
		"run from cmd/plexd, the path leads to the checkout's examples/app")
	require.Contains(t, out, "console           http://"+p.addrs["http"]+"/console")
	require.Contains(t, out, "discovery         curl http://"+p.addrs["http"]+"/plex/v1/host")
	require.Contains(t, out, "stored pushes     none wait")
}

// TestBannerCountsStoredPushes: a data directory outlives plexd; the next
// start says how many stored pushes it holds and how to start clean.
func TestBannerCountsStoredPushes(t *testing.T) {
	dir := t.TempDir()
	p := runPlexd(t, "-data-dir", dir)
	for _, uid := range []string{"alice", "alice", "bob"} {
		p.push(t, `{"uid":"`+uid+`","uri":"/p","body":"while you were away","persist":true}`)
	}
	p.stop(t)
	p = runPlexd(t, "-data-dir", dir)
	require.Contains(t, p.stdout.String(), "stored pushes     3 wait for 2 users")
	require.Contains(t, p.stdout.String(), "to start clean, stop plexd and remove "+dir+"\n")
}

// TestBannerWithMemoryStore: no stored-pushes line (the store starts
// empty), and the server's "listening" log lines come after the banner,
// which is complete before anything is served (one writer for both
// streams, as on a terminal).
func TestBannerWithMemoryStore(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready.json")
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuf
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"-store", "memory", "-addr", "127.0.0.1:0", "-http", "127.0.0.1:0", "-ready-file", ready}, noEnv, &out, &out)
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "msg=listening") }, 10*time.Second, 5*time.Millisecond)
	cancel()
	require.Equal(t, 0, <-code)
	s := out.String()
	require.NotContains(t, s, "  stored pushes ")
	banner := strings.Index(s, "push              curl")
	require.Greater(t, banner, 0, s)
	require.Greater(t, strings.Index(s, "msg=listening"), banner, "the banner is whole before the first log line:\n%s", s)
}

// TestDefaultDataDirIsPerCheckout: inside a plex checkout the default data
// directory is the checkout's _build/plexd; elsewhere the user cache's.
func TestDefaultDataDirIsPerCheckout(t *testing.T) {
	checkout := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(checkout, "go.mod"), []byte("// a clone\nmodule github.com/plexpush/plex\n\ngo 1.26\n"), 0o600))
	sub := filepath.Join(checkout, "cmd", "plexd")
	require.NoError(t, os.MkdirAll(sub, 0o700))
	t.Chdir(sub)
	base, note, err := defaultDataBase()
	require.NoError(t, err)
	require.Equal(t, filepath.Join(checkout, "_build", "plexd"), base)
	require.Contains(t, note, "this checkout's")

	other := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/plexuser\n"), 0o600))
	t.Chdir(other)
	cache, err := os.UserCacheDir()
	require.NoError(t, err)
	base, note, err = defaultDataBase()
	require.NoError(t, err)
	require.Equal(t, filepath.Join(cache, "plexd"), base, "another module is not a plex checkout")
	require.True(t, strings.Contains(note, "shared"), note)
}
