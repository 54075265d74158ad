package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/plexpush/plex/client"
)

// benchFrozen measures what a frozen node (SIGSTOP, as a paused VM or a
// stuck host) costs a PlexClient that spreads its pushes over every node:
// senders each send one push after another to the cluster's users; after
// a warm-up the last node is stopped for freezeFor, then continued. It
// prints the longest time no push was acknowledged, the rates before and
// while frozen, and how many pushes ended unknown (held by the frozen
// node). A sender whose push the frozen node holds waits for that push's
// outcome, as an application would.
func benchFrozen(ctx context.Context, c config, nodes []*node, users int) error {
	const (
		senders   = 30
		warm      = 2 * time.Second
		freezeFor = 8 * time.Second
		after     = 2 * time.Second
	)
	frozen := nodes[len(nodes)-1]
	if frozen.pid == 0 {
		return errors.New("frozen: needs nodes started by plexbench (their pids)")
	}
	addrs := make([]string, len(nodes))
	for i, n := range nodes {
		addrs[i] = n.addr
	}
	pc, err := client.New(client.Config{Addrs: addrs, Secret: c.secret})
	if err != nil {
		return err
	}
	defer pc.Close()
	for pc.Stats().Connected < len(nodes) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(10 * time.Millisecond)
	}
	var (
		mu      sync.Mutex
		acks    []time.Time
		unknown int
		failed  int
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	b := body(c.bodySize, 0)
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := s; ; i += senders {
				select {
				case <-stop:
					return
				default:
				}
				_, err := pc.Send(ctx, uid(i%users), "/frozen", []byte(b))
				now := time.Now()
				mu.Lock()
				switch {
				case err == nil:
					acks = append(acks, now)
				case errors.Is(err, client.ErrOutcomeUnknown):
					unknown++
				default:
					failed++
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(warm)
	freeze := time.Now()
	if err := syscall.Kill(frozen.pid, syscall.SIGSTOP); err != nil {
		close(stop)
		wg.Wait()
		return err
	}
	time.Sleep(freezeFor)
	thaw := time.Now()
	_ = syscall.Kill(frozen.pid, syscall.SIGCONT)
	time.Sleep(after)
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	sort.Slice(acks, func(i, j int) bool { return acks[i].Before(acks[j]) })
	count := func(from, to time.Time) int {
		n := 0
		for _, t := range acks {
			if !t.Before(from) && t.Before(to) {
				n++
			}
		}
		return n
	}
	var gap time.Duration
	prev := freeze
	for _, t := range acks {
		if t.Before(freeze) {
			continue
		}
		if t.After(thaw) {
			break
		}
		gap = max(gap, t.Sub(prev))
		prev = t
	}
	gap = max(gap, thaw.Sub(prev))
	steady := freezeFor / 2 // the frozen window's second half
	fmt.Printf("frozen nodes=%d senders=%d frozen_for=%s longest_gap=%s rate_before=%.0f/s rate_frozen=%.0f/s unknown=%d failed=%d\n",
		len(nodes), senders, ms(freezeFor), ms(gap),
		float64(count(freeze.Add(-warm/2), freeze))/(warm/2).Seconds(),
		float64(count(thaw.Add(-steady), thaw))/steady.Seconds(), unknown, failed)
	return nil
}
