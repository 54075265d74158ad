package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// A cluster run (-nodes K > 1): one NATS server in this process, K plexd
// joined to it, and one worker process per node holding -conns connections
// to it (a process can hold ~19,900 sockets here, so 5 × 19,000
// connections need 5 workers). The coordinator pushes through node 0 and
// asks the workers what arrived: a broadcast or a unicast to every user
// crosses NATS to reach the other nodes.

// worker is the coordinator's handle on one worker process.
type worker struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func (w *worker) ask(cmd string) ([]string, error) {
	if _, err := fmt.Fprintln(w.in, cmd); err != nil {
		return nil, err
	}
	if !w.out.Scan() {
		return nil, fmt.Errorf("worker gone: %v", w.out.Err())
	}
	return strings.Fields(w.out.Text()), nil
}

// workerStats is one worker's count and latencies since the last reset.
type workerStats struct {
	got           int64
	max, p50, p99 time.Duration
}

// count returns how many frames the worker received since the last reset:
// cheap, so that polling it does not take CPU from the nodes being measured.
func (w *worker) count() (int64, error) {
	f, err := w.ask("count")
	if err != nil || len(f) != 2 || f[0] != "count" {
		return 0, fmt.Errorf("worker count: %v %v", f, err)
	}
	return strconv.ParseInt(f[1], 10, 64)
}

func (w *worker) stats() (workerStats, error) {
	f, err := w.ask("stats")
	if err != nil || len(f) != 5 || f[0] != "stats" {
		return workerStats{}, fmt.Errorf("worker stats: %v %v", f, err)
	}
	var v [4]int64
	for i := range v {
		v[i], _ = strconv.ParseInt(f[i+1], 10, 64)
	}
	return workerStats{v[0], time.Duration(v[1]), time.Duration(v[2]), time.Duration(v[3])}, nil
}

func benchCluster(ctx context.Context, c config, modes []string) error {
	fmt.Printf("# plexbench cluster nodes=%d nats=%s conns_per_node=%d total=%d %s\n", c.nodes, c.natsTopology, c.conns, c.nodes*c.conns, cpuModel())
	ns, err := startNATS(ctx, c)
	if err != nil {
		return err
	}
	defer ns.stop()
	nodes := make([]*node, 0, c.nodes)
	defer func() {
		for _, n := range nodes {
			n.stop()
		}
	}()
	for i := range c.nodes {
		nc := c
		nc.nodeFlags = strings.TrimSpace(c.nodeFlags + " " + ns.nodeFlags(i))
		n, err := startNode(ctx, nc)
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
	}
	if err := waitStoreReady(ctx, nodes); err != nil {
		return err
	}
	base := make([]int64, len(nodes))
	baseLive := make([]float64, len(nodes))
	for i, n := range nodes {
		baseLive[i] = n.liveHeap()
		base[i] = n.rss()
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	workers := make([]*worker, 0, len(nodes))
	defer func() {
		for _, w := range workers {
			w.in.Close()
			_ = w.cmd.Wait()
		}
	}()
	start := time.Now()
	for i, n := range nodes {
		cmd := exec.CommandContext(ctx, self, "-worker", "-addr", n.addr, "-conns", strconv.Itoa(c.conns),
			"-first-user", strconv.Itoa(i*c.conns), "-source-net", strconv.Itoa(i+1),
			"-sources", strconv.Itoa(c.sources), "-dialers", strconv.Itoa(c.dialers))
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			return err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		workers = append(workers, &worker{cmd: cmd, in: in, out: bufio.NewScanner(out)})
	}
	for i, w := range workers {
		if !w.out.Scan() || !strings.HasPrefix(w.out.Text(), "ready") {
			return fmt.Errorf("worker %d did not connect: %s %v", i, w.out.Text(), w.out.Err())
		}
	}
	total := c.nodes * c.conns
	fmt.Printf("connect conns=%d time=%s rate=%.0f/s\n", total, ms(time.Since(start)), float64(total)/time.Since(start).Seconds())
	p, err := dialPusher(nodes[0].addr, c.secret)
	if err != nil {
		return err
	}
	defer p.close()

	reset := func() error {
		for _, w := range workers {
			if _, err := w.ask("reset"); err != nil {
				return err
			}
		}
		return nil
	}
	// wait polls the workers' counts until want messages arrived in all,
	// then collects their latencies (the workers time every copy on
	// arrival, so the polling rate does not change the result).
	wait := func(want int64) ([]workerStats, error) {
		deadline := time.Now().Add(c.timeout)
		for {
			var sum int64
			for _, w := range workers {
				n, err := w.count()
				if err != nil {
					return nil, err
				}
				sum += n
			}
			if sum >= want {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return nil, fmt.Errorf("timeout: %d of %d arrived", sum, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
		all := make([]workerStats, len(workers))
		for i, w := range workers {
			s, err := w.stats()
			if err != nil {
				return nil, err
			}
			all[i] = s
		}
		return all, nil
	}
	summary := func(all []workerStats) (last, p50, p99 time.Duration) {
		var p50s []time.Duration
		for _, s := range all {
			last, p99 = max(last, s.max), max(p99, s.p99)
			p50s = append(p50s, s.p50)
		}
		return last, median(p50s), p99
	}

	for _, mode := range modes {
		switch mode {
		case "idle":
			time.Sleep(2 * time.Second)
			for i, n := range nodes {
				live := n.liveHeap()
				fmt.Printf("idle node=%d conns=%d rss_per_conn=%.0fB live_heap_per_conn=%.0fB\n", i, c.conns,
					float64(n.rss()-base[i])/float64(c.conns), (live-baseLive[i])/float64(c.conns))
			}
		case "broadcast":
			var lasts []time.Duration
			for run := 1; run <= c.runs; run++ {
				if err := reset(); err != nil {
					return err
				}
				if err := p.queue(pushReq{All: true, URI: "/bcast", Body: body(c.bodySize, time.Now().UnixNano())}); err != nil {
					return err
				}
				if err := p.flush(); err != nil {
					return err
				}
				all, err := wait(int64(total))
				if err != nil {
					return err
				}
				last, p50, _ := summary(all)
				lasts = append(lasts, last)
				fmt.Printf("broadcast run=%d conns=%d last=%s p50=%s\n", run, total, ms(last), ms(p50))
				time.Sleep(300 * time.Millisecond)
			}
			fmt.Printf("broadcast median_last=%s over %d runs\n", ms(median(lasts)), c.runs)
		case "unicast":
			var times []time.Duration
			for run := 1; run <= c.runs; run++ {
				if err := reset(); err != nil {
					return err
				}
				at := time.Now().Add(50 * time.Millisecond)
				b := body(c.bodySize, at.UnixNano())
				frames, err := p.frames(func(yield func(pushReq) bool) {
					for u := range total {
						if !yield(pushReq{UID: uid(u), URI: "/uni", Body: b}) {
							return
						}
					}
				})
				if err != nil {
					return err
				}
				time.Sleep(time.Until(at))
				if err := p.writeRaw(frames); err != nil {
					return err
				}
				all, err := wait(int64(total))
				if err != nil {
					return err
				}
				el := time.Since(at)
				times = append(times, el)
				_, p50, p99 := summary(all)
				fmt.Printf("unicast run=%d users=%d (%.0f%% on other nodes) time=%s rate=%.0f/s p50=%s p99=%s\n",
					run, total, 100*float64(total-c.conns)/float64(total), ms(el), float64(total)/el.Seconds(), ms(p50), ms(p99))
				time.Sleep(300 * time.Millisecond)
			}
			fmt.Printf("unicast median_time=%s median_rate=%.0f/s over %d runs\n", ms(median(times)), float64(total)/median(times).Seconds(), c.runs)
		case "frozen":
			if err := benchFrozen(ctx, c, nodes, total); err != nil {
				return err
			}
		case "persist":
			if err := clusterPersist(ctx, c, nodes); err != nil {
				return err
			}
		default:
			return fmt.Errorf("cluster mode measures idle, broadcast, unicast, persist and frozen, not %q", mode)
		}
	}
	return nil
}

// workerMain is a worker process: it holds its connections and answers the
// coordinator's line commands (reset, stats) until stdin closes.
func workerMain(ctx context.Context, c config) error {
	f, _, err := connectFleet(ctx, c, c.addr)
	if err != nil {
		return err
	}
	defer f.close()
	// One latency slot per copy, claimed with an atomic add: no lock for
	// 19,000 reader goroutines to contend on. Copies beyond the slots are
	// counted (f.got) but not timed.
	lat := make([]time.Duration, 2*c.conns)
	var n atomic.Int64
	f.setHandler(func(_ int, frame []byte, now int64) {
		if i := n.Add(1) - 1; i < int64(len(lat)) {
			lat[i] = time.Duration(now - sentAt(frame))
		}
	})
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "reset": // between runs, when nothing arrives
			n.Store(0)
			f.got.Store(0)
			fmt.Println("ok")
		case "count":
			fmt.Printf("count %d\n", f.got.Load())
		case "stats": // after the run: every copy arrived
			s := slices.Clone(lat[:min(n.Load(), int64(len(lat)))])
			var mx time.Duration
			for _, d := range s {
				mx = max(mx, d)
			}
			fmt.Printf("stats %d %d %d %d\n", f.got.Load(), mx, pct(s, 0.5), pct(s, 0.99))
		default:
			fmt.Println("unknown")
		}
	}
	return nil
}
