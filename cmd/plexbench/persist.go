package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexpush/plex/client"
)

// The persist measurement: persistent pushes (client.Persist) through one
// PlexClient with -persist-inflight Sends in flight, what a business
// service does against the node's store (plexd's default: the embedded
// NATS JetStream store; -node-flags "-store memory" for the memory store).
// A Send returns once the node stored the push, so the rate is of pushes
// acknowledged as stored. Three parts per run (-persist-parts picks some):
//
//   - offline: -persist-pushes pushes to -conns users with no connection
//     (fresh uids each run): the store alone;
//   - online: the same number to the fleet's users, which ack with a
//     cumulative /ack, as fast as possible: time until every Send returned
//     and every push arrived;
//   - paced: -persist-rate pushes/s to the fleet's users for -duration:
//     latency from the push being due (the Send call, unless all in-flight
//     slots are busy: waiting for one counts, so an overloaded node is not
//     flattered) to the app reading it.

// persistTTL is the pushes' TTL: long enough that nothing expires during
// a measurement.
const persistTTL = time.Hour

func measurePersist(ctx context.Context, c config, n *node, f *fleet) error {
	pc, err := client.New(client.Config{Addrs: []string{n.addr}, Secret: c.secret, MaxPending: 2 * c.persistInflight})
	if err != nil {
		return err
	}
	defer pc.Close()
	// one Send first: the connection is up before the clock starts
	if _, err := pc.Send(ctx, "warmup", "/persist", []byte("warmup"), client.Persist(persistTTL)); err != nil {
		return fmt.Errorf("warm-up Send: %w", err)
	}
	parts := strings.Split(c.persistParts, ",")
	for _, p := range parts {
		if !slices.Contains([]string{"offline", "online", "paced"}, p) {
			return fmt.Errorf("-persist-parts: unknown part %q (want offline, online, paced)", p)
		}
	}
	var offline, online, p50s, p99s []time.Duration
	for run := 1; run <= c.runs; run++ {
		if slices.Contains(parts, "offline") {
			el, err := persistOffline(ctx, c, pc, run)
			if err != nil {
				return err
			}
			offline = append(offline, el)
			time.Sleep(200 * time.Millisecond)
		}
		if slices.Contains(parts, "online") {
			el, err := persistOnline(ctx, c, pc, f, run)
			if err != nil {
				return err
			}
			online = append(online, el)
			time.Sleep(200 * time.Millisecond)
		}
		if slices.Contains(parts, "paced") {
			p50, p99, err := persistPaced(ctx, c, pc, f, run)
			if err != nil {
				return err
			}
			p50s, p99s = append(p50s, p50), append(p99s, p99)
			time.Sleep(200 * time.Millisecond)
		}
	}
	out := "persist"
	if len(offline) > 0 {
		out += fmt.Sprintf(" median_offline_rate=%.0f/s", float64(c.persistPushes)/median(offline).Seconds())
	}
	if len(online) > 0 {
		out += fmt.Sprintf(" median_online_rate=%.0f/s", float64(c.persistPushes)/median(online).Seconds())
	}
	if len(p50s) > 0 {
		out += fmt.Sprintf(" paced=%d/s median_p50=%s median_p99=%s", c.persistRate, ms(median(p50s)), ms(median(p99s)))
	}
	fmt.Printf("%s over %d runs\n", out, c.runs)
	return nil
}

// persistOffline stores c.persistPushes pushes for c.conns users that
// have no connection (uids fresh in each run).
func persistOffline(ctx context.Context, c config, pc *client.PlexClient, run int) (time.Duration, error) {
	users := c.conns
	start := time.Now()
	errs, err := sendPersistent(ctx, pc, c.persistPushes, c.persistInflight, func(i int) (string, []byte) {
		return fmt.Sprintf("off%d-%d", run, i%users), []byte(body(c.bodySize, time.Now().UnixNano()))
	})
	el := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("offline: %d of %d Sends failed, first: %w", errs, c.persistPushes, err)
	}
	fmt.Printf("persist-offline run=%d users=%d pushes=%d inflight=%d time=%s rate=%.0f/s\n",
		run, users, c.persistPushes, c.persistInflight, ms(el), float64(c.persistPushes)/el.Seconds())
	return el, nil
}

// persistOnline pushes c.persistPushes to the fleet's acking users as fast
// as the in-flight bound allows; the time ends when every push arrived.
func persistOnline(ctx context.Context, c config, pc *client.PlexClient, f *fleet, run int) (time.Duration, error) {
	lat := f.latencies()
	f.got.Store(0)
	start := time.Now()
	errs, err := sendPersistent(ctx, pc, c.persistPushes, c.persistInflight, func(i int) (string, []byte) {
		return uid(i % len(f.conns)), []byte(body(c.bodySize, time.Now().UnixNano()))
	})
	sent := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("online: %d of %d Sends failed, first: %w", errs, c.persistPushes, err)
	}
	if err := f.waitGot(ctx, int64(c.persistPushes), c.timeout); err != nil {
		return 0, err
	}
	el := time.Since(start)
	p50, p99 := lat.pcts()
	fmt.Printf("persist-online run=%d users=%d pushes=%d inflight=%d sends=%s time=%s rate=%.0f/s p50=%s p99=%s\n",
		run, len(f.conns), c.persistPushes, c.persistInflight, ms(sent), ms(el), float64(c.persistPushes)/el.Seconds(),
		ms(p50), ms(p99))
	return el, nil
}

// persistPaced offers c.persistRate pushes/s to the fleet's users for
// c.duration, in ticks of 1 ms, each stamped with the time it was due.
func persistPaced(ctx context.Context, c config, pc *client.PlexClient, f *fleet, run int) (p50, p99 time.Duration, err error) {
	lat := f.latencies()
	f.got.Store(0)
	perTick := max(1, c.persistRate/1000)
	ticks := int(c.duration / time.Millisecond)
	due := make(chan int64, perTick*ticks) // never blocks the pacer
	var next, errs atomic.Int64
	var first atomic.Pointer[error]
	var wg sync.WaitGroup
	for range c.persistInflight {
		wg.Go(func() {
			for at := range due {
				u := uid(int(next.Add(1)-1) % len(f.conns))
				if _, err := pc.Send(ctx, u, "/persist", []byte(body(c.bodySize, at)), client.Persist(persistTTL)); err != nil {
					errs.Add(1)
					first.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	start := time.Now()
	t := time.NewTicker(time.Millisecond)
	for range ticks {
		<-t.C
		now := time.Now().UnixNano()
		for range perTick {
			due <- now
		}
	}
	t.Stop()
	close(due)
	wg.Wait()
	sent := int64(perTick * ticks)
	if e := first.Load(); e != nil {
		return 0, 0, fmt.Errorf("paced: %d of %d Sends failed, first: %w", errs.Load(), sent, *e)
	}
	if err := f.waitGot(ctx, sent, c.timeout); err != nil {
		return 0, 0, err
	}
	el := time.Since(start)
	p50, p99 = lat.pcts()
	fmt.Printf("persist-paced run=%d offered=%d/s sent=%d achieved=%.0f/s p50=%s p99=%s\n",
		run, perTick*1000, sent, float64(sent)/el.Seconds(), ms(p50), ms(p99))
	return p50, p99, nil
}

// sendPersistent makes count persistent Sends, inflight at a time; push(i)
// names the i-th push's user and body. It returns the failures and the
// first error.
func sendPersistent(ctx context.Context, pc *client.PlexClient, count, inflight int, push func(i int) (string, []byte)) (int64, error) {
	var next, errs atomic.Int64
	var first atomic.Pointer[error]
	var wg sync.WaitGroup
	for range inflight {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= count || ctx.Err() != nil {
					return
				}
				u, b := push(i)
				if _, err := pc.Send(ctx, u, "/persist", b, client.Persist(persistTTL)); err != nil {
					errs.Add(1)
					first.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	if e := first.Load(); e != nil {
		return errs.Load(), *e
	}
	return 0, ctx.Err()
}

// latencySink collects the fleet's push-to-receive latencies.
type latencySink struct {
	mu  sync.Mutex
	lat []time.Duration
}

// latencies installs a fresh sink as the fleet's frame handler.
func (f *fleet) latencies() *latencySink {
	s := &latencySink{}
	f.setHandler(func(_ int, frame []byte, now int64) {
		d := time.Duration(now - sentAt(frame))
		s.mu.Lock()
		s.lat = append(s.lat, d)
		s.mu.Unlock()
	})
	return s
}

func (s *latencySink) pcts() (p50, p99 time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return pct(s.lat, 0.5), pct(s.lat, 0.99)
}

// seqOf reads "seq" from a raw JSON frame body (0 when absent), cheaply:
// the acking fleet needs it for every frame.
func seqOf(frame []byte) int64 {
	i := bytes.Index(frame, []byte(`"seq":`))
	if i < 0 {
		return 0
	}
	var n int64
	for _, c := range frame[i+6:] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	return n
}
