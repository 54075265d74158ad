package server_test

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// TestWSIdleMemory measures what an idle, authenticated connection costs
// the node, over WebSocket and over plain TCP for comparison. The
// connections are held by a child process (this test binary again), so
// nothing of the clients is counted. It is skipped unless PLEX_IDLE_CONNS
// is set (docs/benchmarks.md, ## WebSocket):
//
//	PLEX_IDLE_CONNS=10000 go test ./server -run 'TestWSIdleMemory/ws' -v -count=1
//
// (one transport per run: RSS does not shrink when the first one's
// connections close).
func TestWSIdleMemory(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("PLEX_IDLE_CONNS"))
	if n <= 0 {
		t.Skip("set PLEX_IDLE_CONNS to measure")
	}
	for _, transport := range []string{"tcp", "ws"} {
		t.Run(transport, func(t *testing.T) {
			node := startWSNode(t, server.Config{Pollers: 2, HeartbeatInterval: time.Hour, Logger: slog.New(slog.DiscardHandler)})
			addr := node.Addr
			if transport == "ws" {
				addr = node.http
			}
			heap0, stack0, g0, rss0 := memNow()
			cmd := exec.Command(os.Args[0], "-test.run=^TestIdleClients$", "-test.v")
			cmd.Env = append(os.Environ(), "PLEX_IDLE_CLIENTS="+transport+","+addr+","+strconv.Itoa(n))
			stdin, err := cmd.StdinPipe()
			require.NoError(t, err)
			out, err := cmd.StdoutPipe()
			require.NoError(t, err)
			cmd.Stderr = os.Stderr
			require.NoError(t, cmd.Start())
			defer func() { stdin.Close(); _ = cmd.Wait() }()
			sc := bufio.NewScanner(out)
			for sc.Scan() && !strings.HasPrefix(sc.Text(), "ready") {
			}
			eventually(t, func() bool { return node.Stats().Connections == n }, "all connected")
			time.Sleep(time.Second) // let the connect storm's garbage go
			heap1, stack1, g1, rss1 := memNow()
			t.Logf("%s: %d idle connections: heap %.0f B/conn, stacks %.0f B/conn, RSS %.0f B/conn, goroutines %d → %d",
				transport, n, per(heap1-heap0, n), per(stack1-stack0, n), per(rss1-rss0, n), g0, g1)
		})
	}
}

func per(v int64, n int) float64 { return float64(v) / float64(n) }

func memNow() (heap, stack int64, goroutines int, rss int64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			rss = kb << 10
		}
	}
	return int64(m.HeapInuse), int64(m.StackInuse), runtime.NumGoroutine(), rss
}

// TestIdleClients is the child of TestWSIdleMemory: it opens and
// authenticates the connections, says "ready", and holds them until its
// stdin closes.
func TestIdleClients(t *testing.T) {
	spec := os.Getenv("PLEX_IDLE_CLIENTS")
	if spec == "" {
		t.Skip("child process of TestWSIdleMemory")
	}
	f := strings.Split(spec, ",")
	transport, addr := f[0], f[1]
	n, _ := strconv.Atoi(f[2])
	conns := make([]net.Conn, 0, n)
	for i := range n {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		br := bufio.NewReaderSize(c, 512)
		auth, _ := pack.JSON.Append(nil, &pack.Message{URI: pack.URIAuth, Body: []byte("u" + strconv.Itoa(i))})
		if transport == "ws" {
			var k [16]byte
			_, _ = rand.Read(k[:])
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
				server.WebSocketPath, addr, base64.StdEncoding.EncodeToString(k[:]))
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
			frame := []byte{0x81, 0x80 | byte(len(auth)), 0, 0, 0, 0} // zero mask
			_, err = c.Write(append(frame, auth...))
			require.NoError(t, err)
			var h [2]byte
			_, err = io.ReadFull(br, h[:])
			require.NoError(t, err)
			_, err = br.Discard(int(h[1] & 0x7f))
			require.NoError(t, err)
		} else {
			frame := make([]byte, pack.HeaderSize, pack.HeaderSize+len(auth))
			pack.BigEndian.PutHeader(frame, uint32(len(auth)))
			_, err = c.Write(append(frame, auth...))
			require.NoError(t, err)
			var h [4]byte
			_, err = io.ReadFull(br, h[:])
			require.NoError(t, err)
			_, err = br.Discard(int(pack.BigEndian.Header(h[:])))
			require.NoError(t, err)
		}
		conns = append(conns, c)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}
