package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
)

// dashboardFile is the Grafana dashboard of deploy/ (docs/operations.md,
// Deploying).
const dashboardFile = "../../deploy/grafana/plexd.json"

// TestDashboardMetricsExist: every series the dashboard's queries name is
// one that a node exports, so a renamed metric cannot leave a panel empty
// without a failing test. The node is the default daemon (embedded
// JetStream store), and the test first makes each labelled series appear:
// a counter vector is exported only once one of its labels was counted.
func TestDashboardMetricsExist(t *testing.T) {
	want := dashboardMetrics(t, dashboardFile)
	require.Contains(t, want, "plex_connections", "the dashboard's queries were not found")

	p := runPlexd(t, "-auth-timeout", "300ms", "-max-preauth-per-addr", "1", "-secret-fail-burst", "1")
	exerciseMetrics(t, p)

	var missing []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got := scrapeNames(t, "http://"+p.addrs["http"]+"/metrics")
		missing = missing[:0]
		for _, name := range want {
			if !got[name] {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	require.Empty(t, missing, "%s queries series that plexd does not export", dashboardFile)
}

// metricName finds the series names in a PromQL expression: plex's own and
// the process collector's (descriptor headroom).
var metricName = regexp.MustCompile(`\b(?:plex|process)_[a-z_]+\b`)

// dashboardMetrics returns the series names of every query of the
// dashboard: the panels' "expr" and the template variables' "query"
// (descriptions are prose and are not read).
func dashboardMetrics(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc any
	require.NoError(t, json.Unmarshal(b, &doc), "%s is not JSON", path)
	var names []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && (k == "expr" || k == "query" || k == "definition") {
					names = append(names, metricName.FindAllString(s, -1)...)
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	slices.Sort(names)
	return slices.Compact(names)
}

// scrapeNames returns the sample names of a /metrics page (a histogram's
// are name_bucket, name_sum and name_count, as PromQL names them).
func scrapeNames(t *testing.T, url string) map[string]bool {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	names := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	require.NoError(t, sc.Err())
	return names
}

// exerciseMetrics makes the node count one of each labelled series the
// dashboard shows: an auth, an /error, a push, a connection refused at
// accept, an auth timeout (a close with its code), an undecodable frame
// and a rate-limited wrong secret. p runs with -auth-timeout 300ms,
// -max-preauth-per-addr 1 and -secret-fail-burst 1.
func exerciseMetrics(t *testing.T, p *plexd) {
	addr := p.addrs["addr"]
	r, c := login(t, addr, "alice") // plex_auth_total{result="ok"}
	w := pack.NewWriter(c, pack.BigEndian, pack.JSON)
	require.NoError(t, w.WriteMessage(&pack.Message{URI: pack.URIAuth, Seq: 1, Body: []byte("alice")}))
	require.NoError(t, w.Flush())
	var m pack.Message
	require.NoError(t, r.ReadMessage(&m))
	require.Equal(t, pack.URIError, m.URI, "a second /auth is a non-fatal /error (plex_errors_total)")
	p.push(t, `{"uid":"alice","uri":"/p","body":"hi"}`) // plex_pushes_total, plex_push_seconds
	require.NoError(t, r.ReadMessage(&m))

	// from another loopback address, so that the connections below do not
	// race with these for 127.0.0.1's one connection before login
	idle := dial(t, "127.0.0.2", addr)    // holds its address's one connection before login
	refused := dial(t, "127.0.0.2", addr) // plex_refused_total{reason="preauth_per_address"}
	waitClosed(t, refused)
	waitClosed(t, idle) // plex_timeouts_total{kind="auth"}, plex_closes_total{code="3003"}

	bad := dial(t, "127.0.0.1", addr) // plex_bad_frames_total{reason="decode"}
	_, err := bad.Write([]byte("\x00\x00\x00\x02{x"))
	require.NoError(t, err)
	waitClosed(t, bad)

	// plex_rate_limited_total{quota="secret_failures"}: the second wrong
	// secret from this address is past -secret-fail-burst 1
	require.Eventually(t, func() bool {
		req, _ := http.NewRequest("POST", "http://"+p.addrs["http"]+"/plex/v1/push", strings.NewReader(`{"uid":"alice","uri":"/p"}`))
		req.Header.Set("Authorization", "Bearer wrong")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusTooManyRequests
	}, 5*time.Second, 10*time.Millisecond)
}

// dial connects to addr from the loopback address from.
func dial(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// waitClosed reads c until the node closes it (a FIN or, for a connection
// refused at accept, a reset).
func waitClosed(t *testing.T, c net.Conn) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err := io.Copy(io.Discard, c)
	require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the node did not close the connection")
}
