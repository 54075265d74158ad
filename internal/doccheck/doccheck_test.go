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
