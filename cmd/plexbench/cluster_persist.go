package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/plexpush/plex/client"
)

// waitStoreReady waits until every node would store a persistent push
// (/readyz?store=1): a clustered JetStream needs its quorum and its
// stream's leader first.
func waitStoreReady(ctx context.Context, nodes []*node) error {
	deadline := time.Now().Add(90 * time.Second)
	for i, n := range nodes {
		for {
			resp, err := http.Get("http://" + n.http + "/readyz?store=1")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("node %d not store-ready (JetStream quorum) within 90s", i)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// clusterPersist measures persistent pushes stored by the cluster (R3
// with three NATS servers): -persist-pushes pushes per run through one
// PlexClient on node 0 with -persist-inflight in flight, to users nobody
// holds (persist's offline part): each is appended to the replicated
// stream, acknowledged once a quorum stored it, after the other nodes
// said they do not hold the user.
func clusterPersist(ctx context.Context, c config, nodes []*node) error {
	pc, err := client.New(client.Config{Addrs: []string{nodes[0].addr}, Secret: c.secret, MaxPending: 2 * c.persistInflight})
	if err != nil {
		return err
	}
	defer pc.Close()
	if _, err := pc.Send(ctx, "warmup", "/persist", []byte("warmup"), client.Persist(persistTTL)); err != nil {
		return fmt.Errorf("warm-up Send: %w", err)
	}
	var times []time.Duration
	for run := 1; run <= c.runs; run++ {
		el, err := persistOffline(ctx, c, pc, run)
		if err != nil {
			return err
		}
		times = append(times, el)
		time.Sleep(300 * time.Millisecond)
	}
	fmt.Printf("persist median_offline_rate=%.0f/s over %d runs\n", float64(c.persistPushes)/median(times).Seconds(), c.runs)
	return nil
}
