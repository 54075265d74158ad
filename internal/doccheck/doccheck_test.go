package doccheck

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// root is the repository root, relative to this package.
const root = "../.."

// snippet is one fenced code block of a Markdown file.
type snippet struct {
	line int // of the opening fence, 1-based
	lang string
	code string
}

func snippets(t *testing.T, path string) []snippet {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []snippet
	var cur *snippet
	for i, line := range strings.Split(string(b), "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &snippet{line: i + 1, lang: strings.TrimSpace(strings.TrimPrefix(line, "```"))}
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.code += line + "\n"
		}
	}
	require.Nil(t, cur, "%s: a code block is not closed", path)
	return out
}

// TestREADMEGoSnippetsCompile builds each Go snippet of README.md as a
// main package of this module, laid over a directory that does not exist
// (go build -overlay): what a reader copies compiles as written.
func TestREADMEGoSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs with the go command")
	}
	abs, err := filepath.Abs(root)
	require.NoError(t, err)
	tmp := t.TempDir()
	overlay := map[string]string{}
	var pkgs []string
	for _, s := range snippets(t, filepath.Join(root, "README.md")) {
		if s.lang != "go" {
			continue
		}
		require.True(t, strings.HasPrefix(s.code, "package "),
			"README.md:%d: a Go snippet is a whole file (package, imports) so that it compiles as written", s.line)
		name := "readme_line" + strconv.Itoa(s.line)
		file := filepath.Join(tmp, name+".go")
		require.NoError(t, os.WriteFile(file, []byte(s.code), 0o600))
		overlay[filepath.Join(abs, "internal", "doccheck", name, "main.go")] = file
		pkgs = append(pkgs, "./internal/doccheck/"+name)
	}
	require.NotEmpty(t, pkgs, "README.md has Go snippets")
	b, err := json.Marshal(map[string]any{"Replace": overlay})
	require.NoError(t, err)
	ov := filepath.Join(tmp, "overlay.json")
	require.NoError(t, os.WriteFile(ov, b, 0o600))
	for _, pkg := range pkgs {
		cmd := exec.Command("go", "build", "-overlay", ov, "-o", os.DevNull, pkg)
		cmd.Dir = abs
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "README.md's snippet %s does not compile:\n%s", pkg, out)
	}
}

// TestDocsSpeakToUsers: the Markdown documents a user reads link only to
// files of the repository that exist, and do not cite the project's
// internal notes or issue numbers (name the goal, not the ticket).
func TestDocsSpeakToUsers(t *testing.T) {
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	docs = append(docs, filepath.Join(root, "README.md"))
	abs, err := filepath.Abs(root)
	require.NoError(t, err)
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	internal := regexp.MustCompile(`(?i)shared/notes|\bthe issue\b|\bissues? #?\d+`)
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		require.NoError(t, err)
		for i, line := range strings.Split(string(b), "\n") {
			at := filepath.Base(doc) + ":" + strconv.Itoa(i+1)
			require.False(t, internal.MatchString(line), "%s speaks of the project's own work: %s", at, internal.FindString(line))
			for _, m := range link.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "#") {
					continue
				}
				target, _, _ = strings.Cut(target, "#")
				path, err := filepath.Abs(filepath.Join(filepath.Dir(doc), target))
				require.NoError(t, err)
				rel, err := filepath.Rel(abs, path)
				require.NoError(t, err)
				require.False(t, rel == ".." || strings.HasPrefix(rel, "../"), "%s links outside the repository: %s", at, m[1])
				_, err = os.Stat(path)
				require.NoError(t, err, "%s links to a missing file: %s", at, m[1])
			}
		}
	}
}

// TestClientConformanceTable checks docs/clients.md: every cell says yes,
// partly or no; yes and partly name tests, and each named test exists in
// that column's client, so a capability cannot silently lose its proof.
func TestClientConformanceTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "docs/clients.md"))
	require.NoError(t, err)
	doc := string(b)
	start := strings.Index(doc, "<!-- conformance:begin -->")
	end := strings.Index(doc, "<!-- conformance:end -->")
	require.True(t, start >= 0 && end > start, "docs/clients.md: conformance markers")
	read := func(globs ...string) string {
		var all strings.Builder
		for _, g := range globs {
			files, err := filepath.Glob(filepath.Join(root, g))
			require.NoError(t, err)
			require.NotEmpty(t, files, g)
			for _, f := range files {
				src, err := os.ReadFile(f)
				require.NoError(t, err)
				all.Write(src)
			}
		}
		return all.String()
	}
	goTests := read("client/*_test.go")
	mobileTests := read("sdk/mobile/*_test.go")
	cppTests := read("sdk/cpp/tests/*.cpp")
	jsTests := read("web/e2e/*.test.mjs")
	exists := []func(name string) bool{
		func(n string) bool { return strings.Contains(goTests, "func "+n+"(t *testing.T)") },
		func(n string) bool { return strings.Contains(mobileTests, "func "+n+"(t *testing.T)") },
		func(n string) bool {
			suite, test, ok := strings.Cut(n, ".")
			return ok && regexp.MustCompile(`TEST(_F)?\(`+regexp.QuoteMeta(suite)+`, `+regexp.QuoteMeta(test)+`\)`).MatchString(cppTests)
		},
		func(n string) bool {
			title := strings.Trim(n, "'")
			return strings.HasPrefix(n, "'") && strings.Contains(jsTests, "test('"+title)
		},
	}
	tick := regexp.MustCompile("`([^`]+)`")
	rows := 0
	for _, line := range strings.Split(doc[start:end], "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| capability") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		require.Len(t, cells, 5, "row %q", line)
		rows++
		for i, cell := range cells[1:] {
			cell = strings.TrimSpace(cell)
			verdict, _, _ := strings.Cut(cell, " ")
			verdict = strings.TrimSuffix(verdict, ":")
			require.Contains(t, []string{"yes", "partly", "no"}, verdict, "%s / column %d: %q", cells[0], i+1, cell)
			if verdict == "no" {
				require.Greater(t, len(cell), len("no: "), "%s / column %d: say what is missing", cells[0], i+1)
				continue
			}
			var named int
			for _, m := range tick.FindAllStringSubmatch(cell, -1) {
				name := m[1]
				if !strings.HasPrefix(name, "Test") && !strings.HasPrefix(name, "'") && !regexp.MustCompile(`^[A-Z]\w*\.[A-Z]\w*$`).MatchString(name) {
					continue // a state or API name, not a test
				}
				named++
				require.True(t, exists[i](name), "%s / column %d: no test %s", cells[0], i+1, name)
			}
			require.Positive(t, named, "%s / column %d: a %s names the tests that prove it", cells[0], i+1, verdict)
		}
	}
	require.GreaterOrEqual(t, rows, 8)
}

// TestProtocolSectionsAreContiguous: the spec's sections are numbered
// 1, 2, … and their subsections N.1, N.2, …, so that a section lost in an
// edit (it happened to §13.6) fails here instead of leaving references to
// nothing.
func TestProtocolSectionsAreContiguous(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "docs/protocol.md"))
	require.NoError(t, err)
	sec := regexp.MustCompile(`^## (\d+)\. `)
	sub := regexp.MustCompile(`^### (\d+)\.(\d+) `)
	var major, minor int
	for _, line := range strings.Split(string(b), "\n") {
		if m := sec.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			require.Equal(t, major+1, n, "section after §%d: %q", major, line)
			major, minor = n, 0
		}
		if m := sub.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			k, _ := strconv.Atoi(m[2])
			require.Equal(t, major, n, "%q under §%d", line, major)
			require.Equal(t, minor+1, k, "subsection after §%d.%d: %q", major, minor, line)
			minor = k
		}
	}
	require.Greater(t, major, 10)
	// every §N and §N.M the spec names exists (other documents' §, e.g.
	// RFC 6455 §8.1, are not the spec's)
	refs := regexp.MustCompile(`(RFC \d+ )?§(\d+)(?:\.(\d+))?`)
	spec := string(b)
	var missing []string
	for _, m := range refs.FindAllStringSubmatch(spec, -1) {
		if m[1] != "" {
			continue
		}
		head := "\n## " + m[2] + ". "
		if m[3] != "" {
			head = "\n### " + m[2] + "." + m[3] + " "
		}
		if !strings.Contains(spec, head) {
			missing = append(missing, m[0])
		}
	}
	require.Empty(t, missing, "sections referenced but not in docs/protocol.md")
}
