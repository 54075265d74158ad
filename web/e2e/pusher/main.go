// Command pusher sends one push through the Go PlexClient (package client)
// and prints the node's Result as JSON: the e2e tests' business service.
//
//	pusher -addr 127.0.0.1:9578 -secret s -uid alice -uri /hello -body hi [-persist]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/plexpush/plex/client"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9578", "node TCP address")
	secret := flag.String("secret", "", "inner secret")
	uid := flag.String("uid", "", "user to push to")
	room := flag.String("room", "", "room to push to (instead of -uid)")
	uri := flag.String("uri", "/e2e", "uri of the push")
	body := flag.String("body", "", "body of the push")
	persist := flag.Bool("persist", false, "persistent push (stored until acked)")
	flag.Parse()
	if err := run(*addr, *secret, *uid, *room, *uri, *body, *persist); err != nil {
		fmt.Fprintln(os.Stderr, "pusher:", err)
		os.Exit(1)
	}
}

func run(addr, secret, uid, room, uri, body string, persist bool) error {
	c, err := client.New(client.Config{Addrs: []string{addr}, Secret: secret})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var opts []client.SendOption
	if persist {
		opts = append(opts, client.Persist(0))
	}
	var res client.Result
	if room != "" {
		res, err = c.SendRoom(ctx, room, uri, []byte(body), opts...)
	} else {
		res, err = c.Send(ctx, uid, uri, []byte(body), opts...)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}
