package server_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// Connections that reset while the node writes to them are closed by the
// writing goroutine; connections accepted meanwhile get their descriptor
// numbers and must not be closed by the hang-up events their pollers still
// held for the old ones. Bounded: about two seconds of churn.
func TestFreshConnectionsSurviveWriteErrorCloses(t *testing.T) {
	n := startNode(t, server.Config{Pollers: 1, WriteQueueBytes: 256 << 10})
	deadline := time.Now().Add(2 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // pushes to the victims from off the poller, all the time
		defer wg.Done()
		body := make([]byte, 8<<10)
		for ctx.Err() == nil {
			_, _ = n.Push(ctx, server.User("victim"), pack.Message{URI: "/load", Body: body})
		}
	}()

	var fresh, lost atomic.Int64
	for round := 0; time.Now().Before(deadline) && round < 200; round++ {
		var rw sync.WaitGroup
		for i := range 8 {
			rw.Add(1)
			go func() { // logs in, reads nothing, resets: the node's writes to it fail
				defer rw.Done()
				v := dial(t, n.Addr)
				v.send(pack.Message{URI: pack.URIAuth, Body: []byte("victim")})
				time.Sleep(time.Duration(i) * time.Millisecond)
				_ = v.c.(*net.TCPConn).SetLinger(0)
				v.c.Close()
			}()
		}
		for range 8 {
			rw.Add(1)
			go func() {
				defer rw.Done()
				p := dial(t, n.Addr)
				p.send(pack.Message{URI: pack.URIAuth, Body: []byte("fresh")})
				m, err := p.tryRecv(5 * time.Second)
				fresh.Add(1)
				if err != nil || m.URI != pack.URIAuthSuccess {
					lost.Add(1)
					t.Logf("fresh connection lost: %v %+v", err, m)
				}
				p.c.Close()
			}()
		}
		rw.Wait()
	}
	cancel()
	wg.Wait()
	require.Positive(t, fresh.Load())
	require.Zero(t, lost.Load(), "of %d fresh connections", fresh.Load())
}
