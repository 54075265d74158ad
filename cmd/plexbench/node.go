package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// node is the plexd under test: started here, or a running one.
type node struct {
	addr, http string
	pprof      string // debug address of a node started here (forces GC for live-heap readings)
	pid        int
	cmd        *exec.Cmd
	dir        string
}

func startNode(ctx context.Context, c config) (*node, error) {
	if c.addr != "" {
		return &node{addr: c.addr, http: c.http, pid: c.pid}, nil
	}
	dir, err := os.MkdirTemp("", "plexbench-")
	if err != nil {
		return nil, err
	}
	bin := c.plexd
	if bin == "" {
		bin = filepath.Join(dir, "plexd")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/plexd")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("build plexd (run from the repository root or pass -plexd): %w", err)
		}
	}
	ready := filepath.Join(dir, "ready.json")
	pprofAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"-addr", "127.0.0.1:0", "-http", "127.0.0.1:0", "-inner-secret", c.secret,
		"-heartbeat", "10m", "-auth-timeout", "2m", "-log-level", "warn", "-ready-file", ready, "-pprof", pprofAddr}
	cmd := exec.Command(bin, append(args, strings.Fields(c.nodeFlags)...)...)
	cmd.Stdout = io.Discard
	cmd.Stderr = os.Stderr
	cmd.Env = os.Environ()
	if c.nodeProcs > 0 {
		cmd.Env = append(cmd.Env, "GOMAXPROCS="+strconv.Itoa(c.nodeProcs))
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	n := &node{cmd: cmd, pid: cmd.Process.Pid, dir: dir, pprof: pprofAddr}
	deadline := time.Now().Add(30 * time.Second) // a clustered node first looks at its peers (plexd's peerCheckWait)
	for {
		var addrs map[string]string
		if b, err := os.ReadFile(ready); err == nil && json.Unmarshal(b, &addrs) == nil {
			n.addr, n.http = addrs["addr"], addrs["http"]
			break
		}
		if time.Now().After(deadline) {
			n.stop()
			return nil, fmt.Errorf("plexd did not become ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // let the fresh process settle before the RSS baseline
	return n, nil
}

func (n *node) stop() {
	if n.cmd != nil {
		_ = n.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = n.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = n.cmd.Process.Kill()
			<-done
		}
	}
	if n.dir != "" {
		os.RemoveAll(n.dir)
	}
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// liveHeap forces a GC in the node (through its pprof endpoint) and returns
// the bytes of live heap objects, or 0 when the node has no pprof endpoint.
func (n *node) liveHeap() float64 {
	if n.pprof == "" {
		return 0
	}
	resp, err := http.Get("http://" + n.pprof + "/debug/pprof/heap?gc=1")
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return n.metric("go_memstats_heap_alloc_bytes")
}

// rss returns the node's resident set in bytes (0 if unknown).
func (n *node) rss() int64 {
	if n.pid == 0 {
		return 0
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", n.pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// metric returns the sum of a Prometheus series' samples from /metrics.
func (n *node) metric(name string) float64 {
	if n.http == "" {
		return 0
	}
	resp, err := http.Get("http://" + n.http + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum
}

// writeStats snapshots the node's frames and writev counters.
type writeStats struct{ frames, writes float64 }

func (n *node) writeStats() writeStats {
	return writeStats{n.metric("plex_frames_out_total"), n.metric("plex_writes_total")}
}

// perWrite is the batching factor between two snapshots.
func (a writeStats) perWrite(b writeStats) float64 {
	if b.writes == a.writes {
		return 0
	}
	return (b.frames - a.frames) / (b.writes - a.writes)
}
