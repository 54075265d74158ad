package plexmobile_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/pack"
	plexmobile "github.com/plexpush/plex/sdk/mobile"
	"github.com/plexpush/plex/server"
)

// printer is a Listener; Java, Kotlin and Swift apps implement the same two
// methods (through the wrappers in sdk/android and sdk/ios).
type printer struct{ online, closed chan struct{} }

func (p printer) OnMessage(uri string, body []byte, seq int64, _ *plexmobile.Meta) error {
	fmt.Printf("message %s %q persistent=%v\n", uri, body, seq > 0)
	return nil
}

func (p printer) OnState(state, code int64, reason string, delayMs int64) error {
	switch state {
	case plexmobile.StateOnline:
		fmt.Println("online")
		close(p.online)
	case plexmobile.StateClosed:
		fmt.Println("closed", code)
		close(p.closed)
	}
	return nil
}

func ExampleNewClient() {
	// A node to talk to (an app would dial a plexd).
	srv, _ := server.New(server.Config{Authenticator: auth.None{}, InnerSecret: "s"})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	c, err := plexmobile.NewClient(&plexmobile.Config{
		Addrs:  ln.Addr().String(),
		Token:  "alice", // auth.None: the token is the uid
		Device: "phone-1",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := printer{online: make(chan struct{}), closed: make(chan struct{})}
	_ = c.SetListener(p)
	_ = c.Connect() // returns at once
	<-p.online

	// A business service pushes; here through the node's in-process API.
	_, _ = srv.Push(context.Background(), server.User("alice"),
		pack.Message{URI: "/chat", Body: []byte("hi")}, server.Persist(0))
	for c.LastSeq() == 0 { // LastSeq moves once OnMessage has returned
		time.Sleep(time.Millisecond)
	}
	_ = c.Close()
	<-p.closed
	// Output:
	// online
	// message /chat "hi" persistent=true
	// closed 0
}
