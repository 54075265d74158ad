package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/plexpush/plex/cluster/embedded"
)

// The NATS under a cluster run (-nodes K > 1), chosen by -nats-topology:
//
//   - one: one NATS server inside the plexbench process, every node joined
//     to it (the earlier runs of docs/benchmarks.md);
//   - external: three NATS server processes clustered over routes
//     (plexbench itself, as -nats-server helpers, on the same embedded
//     package and settings as plexd's), JetStream R3; node i joins server
//     i mod 3, as a node would join the NATS server next to it;
//   - embedded: no NATS of its own: the nodes cluster their embedded NATS
//     servers (plexd -cluster-listen/-cluster-peers, R3 with three nodes).
//
// external and embedded run the same NATS code with the same JetStream
// settings; what differs is where it runs: in its own processes, reached
// over loopback TCP, or inside the plexd processes, reached in-process.

// natsSetup is the NATS of a cluster run.
type natsSetup struct {
	nodeFlags func(i int) string // extra plexd flags of node i
	stop      func()
}

func startNATS(ctx context.Context, c config) (*natsSetup, error) {
	switch c.natsTopology {
	case "one":
		dir, err := os.MkdirTemp("", "plexbench-nats-")
		if err != nil {
			return nil, err
		}
		ns, err := embedded.Start(embedded.Config{StoreDir: dir, Listen: "127.0.0.1:0", Name: "plexbench"})
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		return &natsSetup{
			nodeFlags: func(int) string { return "-nats " + ns.ClientURL() },
			stop:      func() { ns.Shutdown(); os.RemoveAll(dir) },
		}, nil
	case "embedded":
		routes := make([]string, c.nodes)
		for i := range routes {
			var err error
			if routes[i], err = freePort(); err != nil {
				return nil, err
			}
		}
		peers := strings.Join(routes, ",")
		return &natsSetup{
			nodeFlags: func(i int) string { return "-cluster-listen " + routes[i] + " -cluster-peers " + peers },
			stop:      func() {},
		}, nil
	case "external":
		return startNATSProcs(ctx, 3)
	}
	return nil, fmt.Errorf("-nats-topology %q: want one, external or embedded", c.natsTopology)
}

// startNATSProcs starts n NATS server processes clustered with each other.
func startNATSProcs(ctx context.Context, n int) (*natsSetup, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	clients, routes := make([]string, n), make([]string, n)
	for i := range n {
		if clients[i], err = freePort(); err != nil {
			return nil, err
		}
		if routes[i], err = freePort(); err != nil {
			return nil, err
		}
	}
	var procs []*exec.Cmd
	var ins []io.WriteCloser
	stop := func() {
		for i, p := range procs {
			ins[i].Close() // the helper shuts its server down when stdin closes
			done := make(chan struct{})
			go func() { _ = p.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				_ = p.Process.Kill()
				<-done
			}
		}
	}
	for i := range n {
		cmd := exec.CommandContext(ctx, self, "-nats-server", clients[i], "-nats-server-cluster", routes[i],
			"-nats-server-routes", strings.Join(routes, ","))
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			stop()
			return nil, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			stop()
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			stop()
			return nil, err
		}
		procs, ins = append(procs, cmd), append(ins, in)
		if sc := bufio.NewScanner(out); !sc.Scan() || sc.Text() != "ready" {
			stop()
			return nil, fmt.Errorf("NATS server %d did not start: %s", i, sc.Text())
		}
	}
	return &natsSetup{
		nodeFlags: func(i int) string { return "-nats nats://" + clients[i%n] + " -nats-replicas 3" },
		stop:      stop,
	}, nil
}

// natsServerMain is a -nats-server helper process: one NATS server with
// JetStream (files in a temporary directory) clustered through routes,
// until stdin closes.
func natsServerMain(c config) error {
	dir, err := os.MkdirTemp("", "plexbench-nats-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ns, err := embedded.Start(embedded.Config{StoreDir: dir, Listen: c.natsServer, Name: "nats-" + strings.NewReplacer(":", "-", ".", "-").Replace(c.natsServer),
		ClusterName: "plexbench", ClusterListen: c.natsServerCluster, Routes: strings.Split(c.natsServerRoutes, ","),
		ReadyTimeout: 30 * time.Second})
	if err != nil {
		return err
	}
	defer ns.Shutdown()
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}
