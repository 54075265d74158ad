// Command push sends pushes through plex nodes with client.PlexClient, as a
// business service would, and prints what each node did.
//
//	go run ./examples/push -addr 127.0.0.1:9578 -secret S -uid alice -body hello
//	go run ./examples/push -addr 127.0.0.1:9578 -secret S -uid alice -persist 1h -n 10
//	go run ./examples/push -discovery http://127.0.0.1:9579 -secret S -all -uri /news -body hi
//
// The secret may also come from $PLEX_INNER_SECRET, which keeps it out of
// the process list.
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
	"time"

	"github.com/plexpush/plex/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "push:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addrs := fs.String("addr", "", "comma-separated node addresses (host:port)")
	discovery := fs.String("discovery", "", "a node's HTTP API URL, used when -addr is empty")
	secret := fs.String("secret", os.Getenv("PLEX_INNER_SECRET"), "the nodes' inner secret (default $PLEX_INNER_SECRET)")
	uid := fs.String("uid", "", "push to this user")
	uids := fs.String("uids", "", "push to these comma-separated users")
	room := fs.String("room", "", "push to the members of this room")
	all := fs.Bool("all", false, "push to everyone")
	uri := fs.String("uri", "/chat", "the URI the app receives")
	body := fs.String("body", "hello", "the body the app receives")
	persist := fs.Duration("persist", 0, "store the push for this long until acked (users only)")
	legacy := fs.Bool("legacy", false, "use the original fire-and-forget /logic/send/msg (no outcome)")
	n := fs.Int("n", 1, "number of pushes (bodies get a counter suffix when n > 1)")
	timeout := fs.Duration("timeout", 10*time.Second, "per-push timeout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *secret == "" {
		return errors.New("-secret or $PLEX_INNER_SECRET is required")
	}
	cfg := client.Config{DiscoveryURL: *discovery, Secret: *secret}
	if *addrs != "" {
		cfg.Addrs = strings.Split(*addrs, ",")
	}
	pc, err := client.New(cfg)
	if err != nil {
		return err
	}
	defer pc.Close()

	var opts []client.SendOption
	if *persist > 0 {
		opts = append(opts, client.Persist(*persist))
	}
	for i := range *n {
		b := *body
		if *n > 1 {
			b = fmt.Sprintf("%s %d", b, i+1)
		}
		pctx, cancel := context.WithTimeout(ctx, *timeout)
		var res client.Result
		switch {
		case *legacy:
			err = pc.SendLegacy(pctx, *uid, *uri, []byte(b))
		case *uid != "":
			res, err = pc.Send(pctx, *uid, *uri, []byte(b), opts...)
		case *uids != "":
			res, err = pc.SendUsers(pctx, strings.Split(*uids, ","), *uri, []byte(b), opts...)
		case *room != "":
			res, err = pc.SendRoom(pctx, *room, *uri, []byte(b), opts...)
		case *all:
			res, err = pc.Broadcast(pctx, *uri, []byte(b), opts...)
		default:
			err = errors.New("one of -uid, -uids, -room or -all is required")
		}
		cancel()
		if err != nil {
			return err
		}
		if *legacy {
			fmt.Fprintln(stdout, "written (legacy push: no outcome)")
			continue
		}
		fmt.Fprintf(stdout, "delivered=%d stored=%d offline=%d seq=%d\n", res.Delivered, res.Stored, res.Offline, res.Seq)
	}
	return nil
}
