package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// modulePath is the module a plex checkout's go.mod declares.
const modulePath = "github.com/plexpush/plex"

// defaultDataBase is the directory under which plexd keeps the default
// data directory of each -addr (<base>/<host>_<port>), and a note for the
// banner saying whose it is.
//
// Started inside a plex checkout (go run ./cmd/plexd, or a plexd built
// there), the base is the checkout's _build/plexd: each clone keeps its
// own stored pushes, so a first login in a fresh clone replays nothing
// left by another clone's runs; git, go ./... and gofmt's check ignore
// _build, and removing it starts clean. Anywhere else (an installed
// plexd) it is <user cache dir>/plexd, shared by that user's plexd
// processes on the same address. Production sets -data-dir.
func defaultDataBase() (base, note string, err error) {
	if wd, err := os.Getwd(); err == nil {
		if root := checkoutRoot(wd); root != "" {
			return filepath.Join(root, "_build", "plexd"), " (this checkout's default; -data-dir to choose another)", nil
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", "", fmt.Errorf("no -data-dir and no user cache directory (%w); set -data-dir", err)
	}
	return filepath.Join(cache, "plexd"), " (the default outside a plex checkout, shared by this user's plexd on this address; -data-dir to choose another)", nil
}

// checkoutRoot returns the root of the plex checkout that contains dir:
// the nearest directory at or above it with a go.mod, if that go.mod
// declares modulePath. "" when there is none.
func checkoutRoot(dir string) string {
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			if declaredModule(b) == modulePath {
				return dir
			}
			return "" // inside another module
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// declaredModule returns the path of go.mod's module directive.
func declaredModule(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
