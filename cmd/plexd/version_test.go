package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestVersionOf: the build information's fields, and the fallbacks when
// the binary carries none (no module support) or no VCS stamp (go run,
// go test, -buildvcs=false).
func TestVersionOf(t *testing.T) {
	stamped := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: modulePath, Version: "v1.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "28f0d5712f3c0b7e3d3b1a1b1a3c7f0d5712f3c0"},
			{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"},
			{Key: "vcs.modified", Value: "true"},
		}}
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build info", nil, false, "(devel) revision unknown time unknown " + runtime.Version()},
		{"no VCS stamp", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: modulePath, Version: "(devel)"}}, true,
			"(devel) revision unknown time unknown go1.26.8"},
		{"empty main version", &debug.BuildInfo{GoVersion: "go1.26.8"}, true, "(devel) revision unknown time unknown go1.26.8"},
		{"stamped, modified tree", stamped, true,
			"v1.4.0 revision 28f0d5712f3c0b7e3d3b1a1b1a3c7f0d5712f3c0 (modified) time 2026-01-02T03:04:05Z go1.26.8"},
	} {
		got := versionOf(tc.bi, tc.ok).String()
		require.Equal(t, tc.want, got, "%s: got %q, want %q", tc.name, got, tc.want)
	}
}

// TestVersionFlag: plexd -version prints one line on stdout and exits 0
// without starting a node, whatever the environment holds (an action
// reads no settings, so a broken one cannot stop it).
func TestVersionFlag(t *testing.T) {
	env := func(k string) string { return map[string]string{"PLEX_MAX_FRAME": "-1", "PLEX_VERSION": "x"}[k] }
	var stdout, stderr syncBuf
	require.Equal(t, 0, run(context.Background(), []string{"-version"}, env, &stdout, &stderr), stderr.String())
	require.Empty(t, stderr.String())
	out := stdout.String()
	require.Equal(t, 1, strings.Count(out, "\n"), "one line: %q", out)
	require.True(t, strings.HasPrefix(out, "plexd "+readVersion().String()+" "+runtime.GOOS+"/"+runtime.GOARCH), "got %q", out)
	require.NotContains(t, out, "listening")
}

// TestVersionIsCommandLineOnly: -version is an action, not a setting.
// PLEX_VERSION in the environment (perhaps another tool's) is ignored and
// the node starts as usual; a config file key "version" is refused at
// start like an unknown key.
func TestVersionIsCommandLineOnly(t *testing.T) {
	o, err := parseOptions(nil, func(k string) string { return map[string]string{"PLEX_VERSION": "true"}[k] })
	require.NoError(t, err)
	require.False(t, o.Version, "PLEX_VERSION must not turn a start into a version print")

	cfg := filepath.Join(t.TempDir(), "plexd.json")
	for _, body := range []string{`{"version": true}`, `{"version": false}`, `{"version": "1.0"}`} {
		require.NoError(t, os.WriteFile(cfg, []byte(body), 0o600))
		_, err = parseOptions([]string{"-config", cfg}, noEnv)
		require.ErrorContains(t, err, `key "version" is a command-line action`, body)
	}
	// the command line still wins over a file it does not read
	o, err = parseOptions([]string{"-config", cfg, "-version"}, noEnv)
	require.NoError(t, err)
	require.True(t, o.Version)
}

// TestBannerShowsVersion: the start banner names the build, so a log says
// which code ran.
func TestBannerShowsVersion(t *testing.T) {
	p := runPlexd(t, "-store", "memory")
	require.Contains(t, p.stdout.String(), "  version           "+readVersion().String()+"\n")
}

// The version is in GET /plex/v1/stats (and so in the console).
func TestVersionInStats(t *testing.T) {
	p := runPlexd(t, "-store", "memory")
	req, _ := http.NewRequest("GET", "http://"+p.addrs["http"]+"/plex/v1/stats", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var st struct {
		Version string `json:"version"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	require.Equal(t, readVersion().String(), st.Version)
}
