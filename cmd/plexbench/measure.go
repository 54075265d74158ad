package main

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// body returns a push body of the configured size starting with a send
// timestamp, so receivers can compute latency.
func body(size int, sent int64) string {
	s := strconv.FormatInt(sent, 10) + "."
	if len(s) < size {
		s += strings.Repeat("x", size-len(s))
	}
	return s
}

// sentAt reads the send timestamp from a raw JSON push frame body
// ({"uri":"…","body":"<ns>.xxx"}) without decoding the whole message.
func sentAt(frame []byte) int64 {
	i := bytes.Index(frame, []byte(`"body":"`))
	if i < 0 {
		return 0
	}
	var n int64
	for _, c := range frame[i+8:] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// measureIdle reports the node's RSS growth per connection (what the
// operator pays) and its live heap per connection after a forced GC (what
// the framework's own structures hold).
func measureIdle(n *node, c config, rssBase int64, liveBase float64) error {
	time.Sleep(2 * time.Second) // let the node's GC settle after the connect storm
	rss := n.rss()
	live := n.liveHeap()
	gor := n.metric("go_goroutines")
	fmt.Printf("idle conns=%d rss_base=%.1fMiB rss=%.1fMiB rss_per_conn=%.0fB live_heap_per_conn=%.0fB node_goroutines=%.0f\n",
		c.conns, float64(rssBase)/(1<<20), float64(rss)/(1<<20),
		float64(rss-rssBase)/float64(c.conns), (live-liveBase)/float64(c.conns), gor)
	return nil
}

// measureBroadcast: one broadcast, time until every connection has it.
func measureBroadcast(ctx context.Context, c config, n *node, f *fleet, p *pusher) error {
	var all []time.Duration
	for run := 1; run <= c.runs; run++ {
		arrive := make([]int64, len(f.conns))
		f.setHandler(func(i int, _ []byte, now int64) { arrive[i] = now })
		f.got.Store(0)
		ws := n.writeStats()
		runtime.GC()
		start := time.Now()
		if err := p.queue(pushReq{All: true, URI: "/bcast", Body: body(c.bodySize, start.UnixNano())}); err != nil {
			return err
		}
		if err := p.flush(); err != nil {
			return err
		}
		if err := f.waitGot(ctx, int64(len(f.conns)), c.timeout); err != nil {
			return err
		}
		lat := make([]time.Duration, len(arrive))
		for i, a := range arrive {
			lat[i] = time.Duration(a - start.UnixNano())
		}
		last := pct(lat, 1)
		all = append(all, last)
		fmt.Printf("broadcast run=%d conns=%d last=%s p50=%s frames_per_write=%.1f\n",
			run, len(f.conns), ms(last), ms(pct(lat, 0.5)), ws.perWrite(n.writeStats()))
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Printf("broadcast median_last=%s over %d runs\n", ms(median(all)), c.runs)
	return nil
}

// measureBurst: c.burst broadcasts written back to back.
func measureBurst(ctx context.Context, c config, n *node, f *fleet, p *pusher) error {
	var rates []time.Duration // stored as time per run; rate derived
	for run := 1; run <= c.runs; run++ {
		f.setHandler(nil)
		f.got.Store(0)
		ws := n.writeStats()
		start := time.Now()
		for range c.burst {
			if err := p.queue(pushReq{All: true, URI: "/burst", Body: body(c.bodySize, start.UnixNano())}); err != nil {
				return err
			}
		}
		if err := p.flush(); err != nil {
			return err
		}
		want := int64(len(f.conns) * c.burst)
		if err := f.waitGot(ctx, want, c.timeout); err != nil {
			return err
		}
		el := time.Since(start)
		rates = append(rates, el)
		fmt.Printf("burst run=%d conns=%d broadcasts=%d time=%s delivered=%.2fM/s frames_per_write=%.1f\n",
			run, len(f.conns), c.burst, ms(el), float64(want)/el.Seconds()/1e6, ws.perWrite(n.writeStats()))
		time.Sleep(200 * time.Millisecond)
	}
	m := median(rates)
	fmt.Printf("burst median=%.2fM/s over %d runs\n", float64(len(f.conns)*c.burst)/m.Seconds()/1e6, c.runs)
	return nil
}

// measureUnicast: perUser pushes to every user, pipelined, as fast as possible.
func measureUnicast(ctx context.Context, c config, n *node, f *fleet, p *pusher, perUser int) error {
	name := "unicast"
	if perUser > 1 {
		name = "queued"
	}
	var times []time.Duration
	for run := 1; run <= c.runs; run++ {
		var mu sync.Mutex
		var lat []time.Duration
		f.setHandler(func(i int, frame []byte, now int64) {
			d := time.Duration(now - sentAt(frame))
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
		})
		f.got.Store(0)
		ws := n.writeStats()
		// pre-encode (timestamp = the planned start) in chunks of 1000 users,
		// written back to back like a busy pipelined PlexClient
		start := time.Now().Add(50 * time.Millisecond)
		b := body(c.bodySize, start.UnixNano())
		var chunks [][]byte
		for lo := 0; lo < len(f.conns); lo += 1000 {
			chunk, err := p.frames(func(yield func(pushReq) bool) {
				for i := lo; i < min(lo+1000, len(f.conns)); i++ {
					for range perUser {
						if !yield(pushReq{UID: uid(i), URI: "/uni", Body: b}) {
							return
						}
					}
				}
			})
			if err != nil {
				return err
			}
			chunks = append(chunks, chunk)
		}
		time.Sleep(time.Until(start))
		for _, chunk := range chunks {
			if err := p.writeRaw(chunk); err != nil {
				return err
			}
		}
		want := int64(len(f.conns) * perUser)
		if err := f.waitGot(ctx, want, c.timeout); err != nil {
			return err
		}
		el := time.Since(start)
		times = append(times, el)
		fmt.Printf("%s run=%d users=%d per_user=%d time=%s rate=%.0f/s p50=%s p99=%s frames_per_write=%.1f\n",
			name, run, len(f.conns), perUser, ms(el), float64(want)/el.Seconds(), ms(pct(lat, 0.5)), ms(pct(lat, 0.99)),
			ws.perWrite(n.writeStats()))
		time.Sleep(200 * time.Millisecond)
	}
	m := median(times)
	fmt.Printf("%s median_time=%s median_rate=%.0f/s over %d runs\n", name, ms(m),
		float64(len(f.conns)*perUser)/m.Seconds(), c.runs)
	return nil
}

// measureLatency: unicast at a paced rate; push-to-receive latency.
func measureLatency(ctx context.Context, c config, f *fleet, p *pusher) error {
	var p50s, p99s []time.Duration
	for run := 1; run <= c.runs; run++ {
		var mu sync.Mutex
		var lat []time.Duration
		f.setHandler(func(i int, frame []byte, now int64) {
			d := time.Duration(now - sentAt(frame))
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
		})
		f.got.Store(0)
		tick := time.Millisecond
		perTick := max(1, c.rate/1000)
		ticks := int(c.duration / tick)
		var sent atomic.Int64
		t := time.NewTicker(tick)
		next := 0
		for range ticks {
			<-t.C
			now := time.Now().UnixNano()
			for range perTick {
				if err := p.queue(pushReq{UID: uid(next % len(f.conns)), URI: "/lat", Body: body(c.bodySize, now)}); err != nil {
					t.Stop()
					return err
				}
				next++
				sent.Add(1)
			}
			if err := p.flush(); err != nil {
				t.Stop()
				return err
			}
		}
		t.Stop()
		if err := f.waitGot(ctx, sent.Load(), c.timeout); err != nil {
			return err
		}
		mu.Lock()
		p50, p99 := pct(lat, 0.5), pct(lat, 0.99)
		mu.Unlock()
		p50s, p99s = append(p50s, p50), append(p99s, p99)
		fmt.Printf("latency run=%d offered=%d/s sent=%d p50=%s p99=%s\n", run, perTick*1000, sent.Load(), ms(p50), ms(p99))
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Printf("latency median_p50=%s median_p99=%s over %d runs\n", ms(median(p50s)), ms(median(p99s)), c.runs)
	return nil
}
