package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
)

// A business service pushes to a user and learns what happened.
func ExamplePlexClient_Send() {
	pc, err := client.New(client.Config{
		Addrs:  []string{"10.0.0.1:9578", "10.0.0.2:9578"},
		Secret: "the nodes' inner secret",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer pc.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := pc.Send(ctx, "alice", "/chat", []byte(`{"text":"hi"}`), client.Persist(24*time.Hour))
	switch {
	case errors.Is(err, client.ErrOutcomeUnknown):
		log.Print("written, but the reply was lost: it may have been delivered")
	case err != nil:
		log.Print("not delivered: ", err)
	case res.Delivered == 0:
		log.Printf("alice is offline; stored as seq %d for her next connection", res.Seq)
	default:
		log.Printf("on %d connections", res.Delivered)
	}
}

// An app receives pushes; reconnects, heartbeats, acks and resume are the
// Conn's job.
func ExampleDial() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := client.Dial(ctx, client.ConnConfig{
		DiscoveryURL: "http://push.example.com:9579",
		Token:        "the app's token",
		Device:       "phone-1",
		OnMessage: func(m *pack.Message) {
			fmt.Printf("%s %s\n", m.URI, m.Body) // persistent ones once each, in order
		},
		OnState: func(s client.State, err error) {
			log.Printf("state %v: %v", s, err)
		},
	})
	if errors.Is(err, client.ErrAuth) {
		log.Fatal("token refused: ", err) // terminal: no retry would help
	}
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Send(ctx, "/typing", []byte("alice")); err != nil {
		log.Print(err)
	}
}

// An app messages another user and joins a room. Each call returns the
// node's answer; a refusal carries the node's code.
func ExampleConn_Message() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := client.Dial(ctx, client.ConnConfig{
		Addrs:  []string{"push.example.com:9578"},
		Token:  "alice's token",
		Device: "phone-1",
		OnMessage: func(m *pack.Message) {
			if m.URI == pack.URIMessage { // "from" is set by the node
				fmt.Printf("%s says %s\n", m.Get(pack.MetaFrom), m.Body)
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	res, err := conn.Message(ctx, "bob", []byte("lunch?"), client.Conversation("c-42"))
	switch {
	case errors.Is(err, pack.CodeForbidden):
		log.Print("the app's policy does not let alice message bob")
	case errors.Is(err, client.ErrOutcomeUnknown):
		log.Print("sent, but the answer was lost: bob may have it")
	case err != nil:
		log.Print("not sent: ", err)
	case res.Delivered == 0:
		log.Printf("bob is offline; message %s waits for him", res.ID)
	}

	// Membership is the user's and outlives this connection: no need to
	// join again after a reconnect.
	if err := conn.JoinRoom(ctx, "team-7"); err != nil {
		log.Print("join refused: ", err)
	}
}
