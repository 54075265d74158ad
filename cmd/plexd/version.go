package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// buildVersion is what plexd -version prints and the banner shows: which
// code this binary is, as the go command stamped it at build time.
type buildVersion struct {
	Module   string // the main module's version: "(devel)" for a build from a checkout
	Revision string // the VCS commit, "unknown" when not stamped (go run, -buildvcs=false, no .git)
	Time     string // the commit's time, RFC 3339, "unknown" when not stamped
	Modified bool   // the work tree differed from Revision
	Go       string // the toolchain, e.g. go1.26.8
}

// readVersion reads the running binary's build information.
func readVersion() buildVersion { return versionOf(debug.ReadBuildInfo()) }

// versionOf extracts a buildVersion; a binary built without module support
// (ok false) or without VCS stamping falls back to "(devel)" and "unknown"
// rather than printing nothing.
func versionOf(bi *debug.BuildInfo, ok bool) buildVersion {
	v := buildVersion{Module: "(devel)", Revision: "unknown", Time: "unknown", Go: runtime.Version()}
	if !ok || bi == nil {
		return v
	}
	if bi.Main.Version != "" {
		v.Module = bi.Main.Version
	}
	if bi.GoVersion != "" {
		v.Go = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && s.Value != "":
			v.Revision = s.Value
		case s.Key == "vcs.time" && s.Value != "":
			v.Time = s.Value
		case s.Key == "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// String is one line, for the banner and logs:
// "(devel) revision 28f0d57… (modified) time 2026-01-02T03:04:05Z go1.26.8".
func (v buildVersion) String() string {
	rev := v.Revision
	if v.Modified {
		rev += " (modified)"
	}
	return fmt.Sprintf("%s revision %s time %s %s", v.Module, rev, v.Time, v.Go)
}

// printVersion is plexd -version: a command-line action, like -h, that
// prints and exits 0 without reading the environment or a config file.
func printVersion(w io.Writer) {
	fmt.Fprintf(w, "plexd %s %s/%s\n", readVersion(), runtime.GOOS, runtime.GOARCH)
}
