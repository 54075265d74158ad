// Command embed runs a plex node inside a Go program: an authenticator that
// maps tokens to users, presence and upstream hooks, then an app connected
// with client.Conn, a push from the process itself and one through
// client.PlexClient. It prints what happens and exits.
//
//	go run ./examples/embed
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}

// tokens is the application's user database, as the authenticator sees it.
var tokens = map[string]string{"token-of-alice": "alice"}

func run(out io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Hooks run on the server's hook goroutine; the channels hand their
	// events to main so that the output is in a fixed order.
	online, offline := make(chan string, 1), make(chan string, 1)
	upstream := make(chan string, 1)
	srv, err := server.New(server.Config{
		Authenticator: auth.Func(func(_ context.Context, token string, _ net.Addr) (string, error) {
			if uid, ok := tokens[token]; ok {
				return uid, nil
			}
			return "", &pack.CodeError{Code: pack.CodeAuthFailed, Reason: "unknown token"}
		}),
		InnerSecret: "inner-secret",
		OnOnline:    func(uid string) { online <- uid },
		OnOffline:   func(uid string) { offline <- uid },
		OnUpstream: func(s *server.Session, m *pack.Message) {
			upstream <- fmt.Sprintf("%s from %s: %s", m.URI, s.UID(), m.Body)
		},
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	addr := ln.Addr().String()

	// An app: client.Conn delivers pushes in order on its own goroutine.
	msgs := make(chan *pack.Message, 8)
	app, err := client.Dial(ctx, client.ConnConfig{
		Addrs:     []string{addr},
		Token:     "token-of-alice",
		Device:    "laptop",
		OnMessage: func(m *pack.Message) { msgs <- m },
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "online:", <-online)

	// A push from the process that embeds the node.
	res, err := srv.Push(ctx, server.User("alice"), pack.Message{URI: "/chat", Body: []byte("hello from the node")})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "push: delivered=%d\n", res.Delivered)
	m := <-msgs
	fmt.Fprintf(out, "app got %s %q\n", m.URI, m.Body)

	// A persistent push from a business service through PlexClient.
	pc, err := client.New(client.Config{Addrs: []string{addr}, Secret: "inner-secret"})
	if err != nil {
		return err
	}
	defer pc.Close()
	sent, err := pc.Send(ctx, "alice", "/chat", []byte("hello from a service"), client.Persist(time.Hour))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "send: delivered=%d stored=%d seq=%d\n", sent.Delivered, sent.Stored, sent.Seq)
	m = <-msgs
	fmt.Fprintf(out, "app got %s %q seq=%d\n", m.URI, m.Body, m.Seq)

	// The app talks back.
	if err := app.Send(ctx, "/hello", []byte("hi node")); err != nil {
		return err
	}
	fmt.Fprintln(out, "node got", <-upstream)

	// The app leaves; a push now reaches nobody and says so.
	app.Close()
	fmt.Fprintln(out, "offline:", <-offline)
	sent, err = pc.Send(ctx, "alice", "/chat", []byte("anyone there?"))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "send: delivered=%d offline=%d\n", sent.Delivered, sent.Offline)

	// A bad token is refused for good: Dial returns at once.
	_, err = client.Dial(ctx, client.ConnConfig{Addrs: []string{addr}, Token: "stolen"})
	fmt.Fprintln(out, "bad token refused:", errors.Is(err, client.ErrAuth), errors.Is(err, pack.CodeAuthFailed))

	pc.Close()
	if err := srv.Shutdown(ctx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, server.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(out, "node stopped")
	return nil
}
