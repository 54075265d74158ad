// Command app is a plex app written with client.Conn: it connects, prints
// state changes and every push it receives, and keeps going (heartbeats,
// reconnects, acks and resume are the Conn's job) until interrupted.
//
//	go run ./examples/app -addr 127.0.0.1:9578 -token alice
//	go run ./examples/app -discovery http://127.0.0.1:9579 -token alice -device phone -n 3
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "app:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("app", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addrs := fs.String("addr", "", "comma-separated node addresses (host:port)")
	discovery := fs.String("discovery", "", "a node's HTTP API URL, used when -addr is empty")
	token := fs.String("token", os.Getenv("PLEX_TOKEN"), "the app's token (default $PLEX_TOKEN)")
	device := fs.String("device", "", "this installation's device id")
	lastSeq := fs.Int64("last-seq", 0, "the highest persistent seq already held")
	n := fs.Int("n", 0, "exit after this many pushes (0: run until interrupted)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *addrs == "" && *discovery == "" {
		return errors.New("-addr host:port (the node's app address) or -discovery URL (its HTTP API) is needed")
	}

	// Callbacks run on the Conn's dispatcher goroutine, one at a time.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	got := 0
	cfg := client.ConnConfig{
		DiscoveryURL: *discovery,
		Token:        plog.Secret(*token),
		Device:       *device,
		LastSeq:      *lastSeq,
		OnState: func(s client.State, err error) {
			if err != nil {
				fmt.Fprintf(stdout, "state: %v (%v)\n", s, err)
			} else {
				fmt.Fprintf(stdout, "state: %v\n", s)
			}
			if s == client.StateClosed {
				cancel()
			}
		},
		OnMessage: func(m *pack.Message) {
			if m.Seq > 0 {
				fmt.Fprintf(stdout, "push %s %q seq=%d\n", m.URI, m.Body, m.Seq)
			} else {
				fmt.Fprintf(stdout, "push %s %q\n", m.URI, m.Body)
			}
			mu.Lock()
			got++
			if *n > 0 && got >= *n {
				cancel()
			}
			mu.Unlock()
		},
	}
	if *addrs != "" {
		cfg.Addrs = strings.Split(*addrs, ",")
	}
	conn, err := client.NewConn(cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Connect(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	<-ctx.Done()
	conn.Close()
	<-conn.Done()
	return conn.Err()
}
