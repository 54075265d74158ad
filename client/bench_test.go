package client_test

import (
	"context"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// The benchmarks run a node, a PlexClient and N original-protocol apps in
// one process (node and load share the machine, as docs/benchmarks.md
// describes). N is PLEX_BENCH_USERS (default 2000): every app costs two
// file descriptors here, and the process limit is ~20,000.
//
//	go test -run '^$' -bench . -benchtime 20000x ./client/
//
// Reported per run: delivered msgs/s end to end (push call to the app
// holding the frame), frames per write on the client→node hop (PlexClient
// Stats) and frames per read on the apps' side of the node→app hop (a read
// returns what one or more node writes put in the socket, so it is an upper
// bound on the node's frames per write).

func benchUsers(b *testing.B) int {
	if s := os.Getenv("PLEX_BENCH_USERS"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(b, err)
		return n
	}
	return 2000
}

// benchNode is a node with n connected apps that count the frames they get.
type benchNode struct {
	addr     string
	received atomic.Int64 // frames the apps got
	reads    atomic.Int64 // reads that returned data
	stop     func()
}

func startBenchNode(b *testing.B, users int) *benchNode {
	b.Helper()
	bn := &benchNode{}
	srv, err := server.New(server.Config{Authenticator: auth.None{}, InnerSecret: secret})
	require.NoError(b, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	go srv.Serve(ln)
	bn.addr = ln.Addr().String()

	var wg sync.WaitGroup
	conns := make([]net.Conn, users)
	for i := range users {
		nc, err := net.Dial("tcp", bn.addr)
		require.NoError(b, err)
		conns[i] = nc
		frame, err := pack.EncodeFrame(pack.BigEndian, pack.JSON, &pack.Message{URI: pack.URIAuth, Body: []byte(benchUID(i))})
		require.NoError(b, err)
		_, err = nc.Write(frame)
		require.NoError(b, err)
		wg.Go(func() { bn.count(nc) })
	}
	// wait for every /auth/success
	require.Eventually(b, func() bool { return bn.received.Load() == int64(users) }, time.Minute, time.Millisecond)
	bn.received.Store(0)
	bn.reads.Store(0)
	bn.stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = srv.Shutdown(ctx)
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	}
	return bn
}

func benchUID(i int) string { return "u" + strconv.Itoa(i) }

// count reads frames without decoding them (the apps must cost little).
func (bn *benchNode) count(nc net.Conn) {
	defer nc.Close() // at the node's FIN: it lingers until the peer closes
	dec := pack.NewDecoder(pack.BigEndian, 0)
	buf := make([]byte, 16<<10)
	for {
		n, err := nc.Read(buf)
		if err != nil {
			return
		}
		dec.Feed(buf[:n])
		k := int64(0)
		for {
			_, ok, err := dec.Next()
			if err != nil {
				return
			}
			if !ok {
				break
			}
			k++
		}
		bn.received.Add(k)
		bn.reads.Add(1)
	}
}

// runPushes sends total pushes from senders goroutines, perUser pushes in a
// row to each user in turn, and waits until the apps hold every frame.
func runPushes(b *testing.B, bn *benchNode, pc *client.PlexClient, total, users, perUser, senders int) {
	ctx := context.Background()
	body := []byte("0123456789abcdef0123456789abcdef0123456789abcdef") // a 64-byte-class frame
	var next atomic.Int64
	var wg sync.WaitGroup
	base := bn.received.Load()
	for range senders {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(total) {
					return
				}
				if _, err := pc.Send(ctx, benchUID(int(i)/perUser%users), "/b", body); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for bn.received.Load()-base < int64(total) {
		time.Sleep(50 * time.Microsecond)
	}
}

func benchPushes(b *testing.B, perUser int) {
	users := benchUsers(b)
	bn := startBenchNode(b, users)
	defer bn.stop()
	pc, err := client.New(client.Config{Addrs: []string{bn.addr}, Secret: secret})
	require.NoError(b, err)
	defer pc.Close()
	runPushes(b, bn, pc, users, users, 1, 64) // warm up: every connection used once
	st0, f0, r0 := pc.Stats(), bn.received.Load(), bn.reads.Load()

	// Senders: one per user, so perUser pushes per user can be in flight.
	b.ResetTimer()
	start := time.Now()
	runPushes(b, bn, pc, b.N, users, perUser, users)
	elapsed := time.Since(start)
	b.StopTimer()

	st, f, r := pc.Stats(), bn.received.Load(), bn.reads.Load()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(st.Frames-st0.Frames)/float64(max(st.Writes-st0.Writes, 1)), "client-frames/write")
	b.ReportMetric(float64(f-f0)/float64(max(r-r0, 1)), "app-frames/read")
}

// BenchmarkSendDistinctUsers: pipelined unicast, each push to the next of
// N users (one message per user in flight at a time).
func BenchmarkSendDistinctUsers(b *testing.B) { benchPushes(b, 1) }

// BenchmarkSendQueuedPerUser: up to 10 pushes per user in flight, so the
// node can coalesce several frames per connection write.
func BenchmarkSendQueuedPerUser(b *testing.B) { benchPushes(b, 10) }

// BenchmarkBurstToUsers: one push to each of N users issued at once; the
// time per op is the time until every app holds its push.
func BenchmarkBurstToUsers(b *testing.B) {
	users := benchUsers(b)
	bn := startBenchNode(b, users)
	defer bn.stop()
	pc, err := client.New(client.Config{Addrs: []string{bn.addr}, Secret: secret})
	require.NoError(b, err)
	defer pc.Close()
	runPushes(b, bn, pc, users, users, 1, users)
	b.ResetTimer()
	for range b.N {
		runPushes(b, bn, pc, users, users, 1, users)
	}
	b.StopTimer() // the deferred teardown is not part of a burst
	b.ReportMetric(float64(users), "users")
}
