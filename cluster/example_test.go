package cluster_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/cluster"
	"github.com/plexpush/plex/cluster/embedded"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// A node whose persistent pushes live in JetStream. Here NATS runs in the
// process (as plexd does by default); in a cluster, nats.Connect to the
// NATS servers instead and give every node the same setup.
func Example() {
	dir, err := os.MkdirTemp("", "plex-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ns, err := embedded.Start(embedded.Config{StoreDir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer ns.Shutdown()
	nc, err := ns.Connect()
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close() // after the server

	c, err := cluster.New(cluster.Config{Conn: nc})
	if err != nil {
		log.Fatal(err)
	}
	srv, err := server.New(server.Config{Bus: c.Bus(), Store: c.Store(), Authenticator: auth.None{}})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := srv.Push(ctx, server.User("alice"), pack.Message{URI: "/hello", Body: []byte("hi")}, server.Persist(time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored:", out.Stored, "offline:", out.Offline)
	// Output: stored: 1 offline: 1
}
