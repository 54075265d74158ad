package client_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// TestPushesSurviveNodeShutdown: a node shutting down answers every push
// it executed before its /disconnect 3000 (protocol §13.4), so PlexClient
// sends the unanswered ones to the other node: no push ends with
// ErrOutcomeUnknown, and none is executed twice. alice has a device on
// each node (no cluster): a push executed on a reaches her phone, one
// retried on b her laptop, never both.
func TestPushesSurviveNodeShutdown(t *testing.T) {
	leakCheck(t)
	a := startNode(t, server.Config{})
	b := startNode(t, server.Config{})
	phone := dialApp(t, a.Addr, "alice", client.ConnConfig{Device: "phone"})
	laptop := dialApp(t, b.Addr, "alice", client.ConnConfig{Device: "laptop"})
	p := pusher(t, client.Config{Addrs: []string{a.Addr, b.Addr}})

	const n = 2000
	var (
		wg        sync.WaitGroup
		sent      atomic.Int64
		delivered atomic.Int64
		mu        sync.Mutex
		errs      []error
	)
	for i := range n {
		wg.Go(func() {
			res, err := p.Send(ctxT(t), "alice", "/p", fmt.Appendf(nil, "%d", i))
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			delivered.Add(int64(res.Delivered))
			if sent.Add(1) == n/4 {
				go a.Stop() // a quarter answered: shut a down with the rest in flight
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.False(t, errors.Is(err, client.ErrOutcomeUnknown), "a push ended with an unknown outcome: %v", err)
	}
	require.Empty(t, errs)

	// Every push was delivered to one device at most: what the two
	// devices received, together, has no body twice and is what the
	// results counted.
	seen := map[string]int{}
	drain := func(ch chan *pack.Message) {
		for {
			select {
			case m := <-ch:
				seen[string(m.Body)]++
			default:
				return
			}
		}
	}
	require.Eventually(t, func() bool {
		drain(phone.msgs)
		drain(laptop.msgs)
		total := 0
		for _, c := range seen {
			total += c
		}
		return int64(total) >= delivered.Load()
	}, waitFor, 10*time.Millisecond)
	for body, c := range seen {
		require.Equal(t, 1, c, "push %s executed twice", body)
	}
	require.EqualValues(t, delivered.Load(), len(seen))
}
