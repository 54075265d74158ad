package web_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/web"
)

func get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	srv := httptest.NewServer(http.StripPrefix("/web", web.Handler()))
	defer srv.Close()
	res, err := http.Get(srv.URL + path)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(b)
}

func TestServesTheConsoleAndTheClient(t *testing.T) {
	cases := []struct{ path, ctype, contains string }{
		{"/web/console/", "text/html", `<script type="module" src="console.js">`},
		{"/web/console/chat.html", "text/html", `src="chat.js"`},
		{"/web/console/console.js", "text/javascript", "import"},
		{"/web/console/style.css", "text/css", ":root"},
		{"/web/client/plex.js", "text/javascript", "export class Client"},
	}
	for _, c := range cases {
		res, body := get(t, c.path)
		require.Equal(t, http.StatusOK, res.StatusCode, c.path)
		require.Contains(t, res.Header.Get("Content-Type"), c.ctype, c.path)
		require.Contains(t, body, c.contains, c.path)
		require.Contains(t, res.Header.Get("Content-Security-Policy"), "default-src 'self'", c.path)
		require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	}
	res, _ := get(t, "/web/console/missing.js")
	require.Equal(t, http.StatusNotFound, res.StatusCode)
}

// The pages load modules from this repository only: no absolute URL in an
// import, a src or an href, and no inline script (the CSP would block it).
func TestNoExternalResources(t *testing.T) {
	external := regexp.MustCompile(`(?i)(from\s+['"]|import\s*\(\s*['"]|src=["']|href=["'])(https?:)?//`)
	inline := regexp.MustCompile(`(?i)<script(?:\s+type="module")?>|\son[a-z]+=|style=`)
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "e2e") {
			return filepath.SkipDir
		}
		ext := filepath.Ext(path)
		if ext != ".js" && ext != ".html" && ext != ".css" {
			return nil
		}
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		require.False(t, external.Match(b), "%s loads something from another origin", path)
		if ext == ".html" {
			require.False(t, inline.Match(b), "%s has inline script or style", path)
			for _, m := range regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(string(b), -1) {
				if strings.HasSuffix(m[1], ".html") || strings.HasSuffix(m[1], ".js") || strings.HasSuffix(m[1], ".css") {
					_, err := os.Stat(filepath.Join(filepath.Dir(path), m[1]))
					require.NoError(t, err, "%s refers to %s", path, m[1])
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
}

// The browser client's unit tests (a fake WebSocket, no browser) run under
// node when it is installed; e2e/ci.sh runs them too, with the headless
// Chromium ones.
func TestClientUnderNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: web/e2e/ci.sh runs limits.test.mjs and resume.test.mjs")
	}
	cmd := exec.Command(node, "--test", "limits.test.mjs", "resume.test.mjs")
	cmd.Dir = "e2e"
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "node --test:\n%s", out)
}

// TestEveryClassHasAStyle: each class a page's markup uses has a rule in
// style.css. A class without one falls back silently (chat.html's span4
// did: its Messages card shrank to one grid column); the layout check of
// e2e.test.mjs sees the result in a browser, this sees the cause.
func TestEveryClassHasAStyle(t *testing.T) {
	css, err := os.ReadFile("console/style.css")
	require.NoError(t, err)
	pages, err := filepath.Glob("console/*.html")
	require.NoError(t, err)
	require.NotEmpty(t, pages)
	attr := regexp.MustCompile(`class="([^"]*)"`)
	for _, page := range pages {
		html, err := os.ReadFile(page)
		require.NoError(t, err)
		for _, m := range attr.FindAllStringSubmatch(string(html), -1) {
			for _, class := range strings.Fields(m[1]) {
				rule := regexp.MustCompile(`\.` + regexp.QuoteMeta(class) + `(?:[^A-Za-z0-9_-]|$)`)
				require.True(t, rule.Match(css), "%s uses class %q, which style.css does not style", page, class)
			}
		}
	}
}
