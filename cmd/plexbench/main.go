// Command plexbench is plex's load generator and benchmark driver. It starts
// a plexd (or uses a running one), opens many authenticated app connections
// from several loopback source addresses, and measures what
// docs/benchmarks.md reports: idle memory per connection, connect rate,
// broadcast fan-out time, back-to-back broadcast throughput, unicast
// throughput and latency, persistent pushes through PlexClient (persist).
// Each run prints one line.
//
//	go run ./cmd/plexbench -conns 10000 -runs 5 idle broadcast burst unicast latency queued
//	go run ./cmd/plexbench -runs 3 persist
//	go run ./cmd/plexbench -nodes 3 -nats-topology embedded -conns 19000 broadcast unicast persist
//
// Every loop is bounded by count and time and ends by itself.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

type config struct {
	plexd     string
	addr      string
	http      string
	pid       int
	secret    string
	conns     int
	sources   int
	runs      int
	burst     int
	perUser   int
	rate      int
	duration  time.Duration
	bodySize  int
	timeout   time.Duration
	dialers   int
	nodeProcs int
	nodeFlags string

	persistPushes   int    // pushes per part of the persist measurement
	persistInflight int    // Sends in flight in the persist measurement
	persistRate     int    // offered rate of its paced part
	persistParts    string // which parts: offline,online,paced
	acks            bool   // the fleet acks persistent pushes (set when persist runs)

	nodes     int  // >1: a cluster of plexd on one NATS, one worker process per node
	worker    bool // internal: run as a fleet worker (see cluster.go)
	firstUser int  // worker: uid of its first connection
	sourceNet int  // third octet of the 127.0.x.y source addresses

	natsTopology      string // -nodes: one, external or embedded (cluster_nats.go)
	natsServer        string // internal: run as a NATS server helper listening here
	natsServerCluster string // helper: its route address
	natsServerRoutes  string // helper: every helper's route address
}

func main() {
	var c config
	flag.StringVar(&c.plexd, "plexd", "", "plexd binary to start (default: build ./cmd/plexd)")
	flag.StringVar(&c.addr, "addr", "", "use a running node's TCP address instead of starting one")
	flag.StringVar(&c.http, "http", "", "the running node's HTTP address (metrics)")
	flag.IntVar(&c.pid, "pid", 0, "the running node's pid (RSS)")
	flag.StringVar(&c.secret, "secret", "bench-secret", "inner secret")
	flag.IntVar(&c.conns, "conns", 10000, "app connections")
	flag.IntVar(&c.sources, "sources", 8, "loopback source addresses 127.0.0.2… to spread ephemeral ports")
	flag.IntVar(&c.runs, "runs", 5, "repetitions of each measurement (the median is reported)")
	flag.IntVar(&c.burst, "burst", 100, "broadcasts back to back in the burst measurement")
	flag.IntVar(&c.perUser, "per-user", 10, "messages per user in the queued measurement")
	flag.IntVar(&c.rate, "rate", 40000, "offered unicast rate (msgs/s) in the latency measurement")
	flag.DurationVar(&c.duration, "duration", 2*time.Second, "length of the latency measurement")
	flag.IntVar(&c.bodySize, "body", 64, "push body size in bytes")
	flag.DurationVar(&c.timeout, "timeout", 60*time.Second, "bound on any single run")
	flag.IntVar(&c.dialers, "dialers", 64, "concurrent dialers")
	flag.IntVar(&c.nodeProcs, "node-procs", 0, "GOMAXPROCS of the started node (0: default)")
	flag.IntVar(&c.persistPushes, "persist-pushes", 30000, "persistent pushes per part (offline, online) of the persist measurement")
	flag.IntVar(&c.persistInflight, "persist-inflight", 512, "PlexClient Sends in flight in the persist measurement")
	flag.IntVar(&c.persistRate, "persist-rate", 50000, "offered persistent push rate (msgs/s) in the persist measurement's paced part")
	flag.StringVar(&c.persistParts, "persist-parts", "offline,online,paced", "parts of the persist measurement to run")
	flag.StringVar(&c.nodeFlags, "node-flags", "", "extra plexd flags, space-separated (e.g. \"-store memory\")")
	flag.IntVar(&c.nodes, "nodes", 1, "plexd nodes; above 1 they form a cluster on one NATS and -conns is per node")
	flag.BoolVar(&c.worker, "worker", false, "internal: fleet worker process")
	flag.IntVar(&c.firstUser, "first-user", 0, "internal: worker's first uid")
	flag.IntVar(&c.sourceNet, "source-net", 0, "internal: third octet of the source addresses")
	flag.StringVar(&c.natsTopology, "nats-topology", "one", "with -nodes: one (a NATS server in plexbench), external (three NATS server processes, clustered) or embedded (the nodes cluster their embedded NATS)")
	flag.StringVar(&c.natsServer, "nats-server", "", "internal: run a NATS server helper listening here")
	flag.StringVar(&c.natsServerCluster, "nats-server-cluster", "", "internal: the helper's route address")
	flag.StringVar(&c.natsServerRoutes, "nats-server-routes", "", "internal: the helpers' route addresses")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: plexbench [flags] idle|connect|broadcast|burst|unicast|latency|queued|persist...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	modes := flag.Args()
	if len(modes) == 0 {
		modes = []string{"idle", "broadcast", "burst", "unicast", "latency", "queued"}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	c.acks = slices.Contains(modes, "persist")
	run := bench
	switch {
	case c.worker:
		run = func(ctx context.Context, c config, _ []string) error { return workerMain(ctx, c) }
	case c.natsServer != "":
		run = func(context.Context, config, []string) error { return natsServerMain(c) }
	case c.nodes > 1:
		run = benchCluster
	}
	if err := run(ctx, c, modes); err != nil {
		fmt.Fprintln(os.Stderr, "plexbench:", err)
		os.Exit(1)
	}
}

func bench(ctx context.Context, c config, modes []string) error {
	fmt.Printf("# plexbench %s GOMAXPROCS=%d cpus=%d conns=%d body=%dB %s\n",
		time.Now().UTC().Format(time.RFC3339), runtime.GOMAXPROCS(0), runtime.NumCPU(), c.conns, c.bodySize, cpuModel())
	n, err := startNode(ctx, c)
	if err != nil {
		return err
	}
	defer n.stop()
	liveBase := n.liveHeap()
	rssBase := n.rss()
	fleet, connectTime, err := connectFleet(ctx, c, n.addr)
	if err != nil {
		return err
	}
	defer fleet.close()
	fmt.Printf("connect conns=%d time=%s rate=%.0f/s\n", c.conns, connectTime.Round(time.Millisecond),
		float64(c.conns)/connectTime.Seconds())
	p, err := dialPusher(n.addr, c.secret)
	if err != nil {
		return err
	}
	defer p.close()
	for _, mode := range modes {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var err error
		switch mode {
		case "connect":
			// reported above, once per invocation
		case "idle":
			err = measureIdle(n, c, rssBase, liveBase)
		case "broadcast":
			err = measureBroadcast(ctx, c, n, fleet, p)
		case "burst":
			err = measureBurst(ctx, c, n, fleet, p)
		case "unicast":
			err = measureUnicast(ctx, c, n, fleet, p, 1)
		case "queued":
			err = measureUnicast(ctx, c, n, fleet, p, c.perUser)
		case "latency":
			err = measureLatency(ctx, c, fleet, p)
		case "persist":
			err = measurePersist(ctx, c, n, fleet)
		default:
			err = fmt.Errorf("unknown measurement %q", mode)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", mode, err)
		}
	}
	return nil
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return "cpu=" + strings.ReplaceAll(strings.TrimSpace(v), " ", "_")
		}
	}
	return ""
}
