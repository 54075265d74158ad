// Command plexd runs a plex node.
//
//	go run ./cmd/plexd                      # loopback, auth none, random inner secret
//	plexd -addr :9578 -http :9579 -auth jwt -jwt-secret /etc/plex/hs256 -inner-secret-file …
//
// Every flag can also be set as PLEX_<NAME> in the environment or as a key
// of the JSON file given by -config. SIGTERM or SIGINT shuts down gracefully:
// every connection is told to reconnect elsewhere (code 3000).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is plexd without process globals, so tests can run it in-process.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, env)
	if errors.Is(err, flag.ErrHelp) { // help asked for is output: stdout, exit 0
		usage(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "plexd:", err)
		fmt.Fprintln(stderr, "plexd -h lists the flags")
		return 2
	}
	if o.Version {
		printVersion(stdout)
		return 0
	}
	n, err := start(ctx, o, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "plexd:", err)
		return 1
	}
	if err := n.wait(ctx); err != nil {
		fmt.Fprintln(stderr, "plexd:", err)
		return 1
	}
	return 0
}

// usage prints plexd -h: what plexd is and every flag with its default.
func usage(w io.Writer) {
	fs := newFlagSet(&options{})
	fs.SetOutput(w)
	fmt.Fprint(w, `Usage: plexd [flags]

plexd runs a plex node. Every flag can also be set as PLEX_<NAME> in the
environment (PLEX_INNER_SECRET for -inner-secret) or as a key of the JSON
file given by -config. Flags:

`)
	fs.PrintDefaults()
}
