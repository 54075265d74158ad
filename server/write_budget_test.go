package server_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// TestWriteBudgetDropsSlowestConsumers: connections that do not read keep
// output queued in the node, each below its own bound (WriteQueueBytes);
// once the node's total passes WriteBudgetBytes, the ones with the most
// queued are closed as slow consumers (3002, no final frame) until the
// total is under the budget, and a reading connection keeps receiving.
func TestWriteBudgetDropsSlowestConsumers(t *testing.T) {
	n := startNode(t, server.Config{WriteQueueBytes: 32 << 20, WriteBudgetBytes: 8 << 20, MaxFrame: 1 << 20})
	for range 4 { // they never read
		p := dial(t, n.Addr)
		require.NoError(t, p.c.(*net.TCPConn).SetReadBuffer(4096))
		p.auth("slow", nil)
	}
	reader := app(t, n.Addr, "reader", nil)
	got := make(chan int, 64)
	go func() {
		for {
			m, err := reader.tryRecv(10 * time.Second)
			if err != nil {
				close(got)
				return
			}
			if m.URI == "/big" {
				got <- len(m.Body)
			}
		}
	}()
	body := []byte(strings.Repeat("x", 512<<10))
	for range 24 { // 12 MiB to each slow connection (what the sockets take aside): 48 MiB against an 8 MiB budget
		_, err := n.Push(ctx(t), server.User("slow"), pack.Message{URI: "/big", Body: body})
		require.NoError(t, err)
		_, err = n.Push(ctx(t), server.User("reader"), pack.Message{URI: "/big", Body: body})
		require.NoError(t, err)
	}
	for range 24 {
		select {
		case l, ok := <-got:
			require.True(t, ok, "the reader was dropped")
			require.Equal(t, len(body), l)
		case <-time.After(10 * time.Second):
			t.Fatal("the reader stopped receiving")
		}
	}
	eventually(t, func() bool { return metricValue(t, n, "plex_write_budget_drops_total", "") >= 1 }, "a slow consumer dropped")
	eventually(t, func() bool {
		return !n.Online(server.User("slow")) || metricValue(t, n, "plex_write_budget_drops_total", "") >= 3
	},
		"slow consumers dropped until the total is under the budget")
	require.GreaterOrEqual(t, metricValue(t, n, "plex_closes_total", "3002"), metricValue(t, n, "plex_write_budget_drops_total", ""))
	require.True(t, n.Online(server.User("reader")))
}
