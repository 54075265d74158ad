package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexpush/plex/pack"
)

// fleet is the app side: many authenticated connections, one reader
// goroutine each (the generator's memory does not matter; the node's does).
type fleet struct {
	conns []net.Conn
	// acks: the apps declare acks=1 and ack persistent pushes (persist)
	acks    bool
	handler atomic.Pointer[func(i int, body []byte, now int64)] // nil: count frames only
	got     atomic.Int64
	wg      sync.WaitGroup
}

func uid(i int) string { return fmt.Sprintf("u%d", i) }

func connectFleet(ctx context.Context, c config, addr string) (*fleet, time.Duration, error) {
	f := &fleet{conns: make([]net.Conn, c.conns), acks: c.acks}
	start := time.Now()
	jobs := make(chan int)
	errc := make(chan error, c.dialers)
	var dwg sync.WaitGroup
	for range c.dialers {
		dwg.Go(func() {
			for i := range jobs {
				if err := f.dial(ctx, c, addr, i); err != nil {
					errc <- err
					return
				}
			}
		})
	}
feed:
	for i := range c.conns {
		select {
		case jobs <- i:
		case err := <-errc:
			close(jobs)
			dwg.Wait()
			f.close()
			return nil, 0, err
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	dwg.Wait()
	select {
	case err := <-errc:
		f.close()
		return nil, 0, err
	default:
	}
	return f, time.Since(start), ctx.Err()
}

func (f *fleet) dial(ctx context.Context, c config, addr string, i int) error {
	d := net.Dialer{Timeout: 10 * time.Second}
	if c.sources > 0 {
		d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, byte(c.sourceNet), byte(2+i%c.sources))}
	}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("dial %d: %w", i, err)
	}
	w := pack.NewWriter(nc, pack.BigEndian, pack.JSON)
	auth := &pack.Message{URI: pack.URIAuth, Body: []byte(uid(c.firstUser + i))}
	if f.acks {
		auth.Set(pack.MetaVersion, pack.ProtocolVersion)
		auth.Set(pack.MetaDevice, "bench")
		auth.Set(pack.MetaAcks, "1")
	}
	if err := w.WriteMessage(auth); err != nil {
		nc.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		nc.Close()
		return err
	}
	r := pack.NewReader(nc, pack.BigEndian, pack.JSON, 0)
	var m pack.Message
	_ = nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	if err := r.ReadMessage(&m); err != nil || m.URI != pack.URIAuthSuccess {
		nc.Close()
		return fmt.Errorf("auth %d: %v %s", i, err, m.URI)
	}
	_ = nc.SetReadDeadline(time.Time{})
	f.conns[i] = nc
	f.wg.Go(func() { f.read(nc, i) })
	return nil
}

// read counts (and, with a handler, decodes) every frame of connection i.
// Counting needs only the frame headers: the generator shares the machine's
// two cores with the node, so it must not spend them decoding JSON when a
// measurement only needs counts. An acking fleet sends one cumulative /ack
// per read for the highest seq it got, as client.Conn does per batch.
func (f *fleet) read(nc net.Conn, i int) {
	buf := make([]byte, 4096)
	dec := pack.NewDecoder(pack.BigEndian, 1<<20)
	var acked int64
	var ack []byte
	for {
		n, err := nc.Read(buf)
		if n > 0 {
			now := time.Now().UnixNano()
			h := f.handler.Load()
			dec.Feed(buf[:n])
			var count, top int64
			for {
				body, ok, derr := dec.Next()
				if derr != nil {
					return
				}
				if !ok {
					break
				}
				if h != nil {
					(*h)(i, body, now)
				}
				if f.acks {
					top = max(top, seqOf(body))
				}
				count++
			}
			f.got.Add(count)
			if top > acked {
				ack, _ = pack.AppendFrame(ack[:0], pack.BigEndian, pack.JSON, &pack.Message{Seq: top, URI: pack.URIAck})
				if _, err := nc.Write(ack); err != nil {
					return
				}
				acked = top
			}
		}
		if err != nil {
			return
		}
	}
}

// setHandler sets what runs for every frame (raw JSON body); nil counts only.
func (f *fleet) setHandler(h func(i int, body []byte, now int64)) {
	if h == nil {
		f.handler.Store(nil)
		return
	}
	f.handler.Store(&h)
}

// waitGot waits until the fleet received want messages in total since the
// counter was reset, or the timeout passes.
func (f *fleet) waitGot(ctx context.Context, want int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for f.got.Load() < want {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("timeout: %d of %d messages arrived", f.got.Load(), want)
		}
		time.Sleep(200 * time.Microsecond)
	}
	return nil
}

func (f *fleet) close() {
	for _, c := range f.conns {
		if c != nil {
			c.Close()
		}
	}
	f.wg.Wait()
}

// pusher is a push client speaking /inner/push, pipelined.
type pusher struct {
	c       net.Conn
	w       *pack.Writer
	mu      sync.Mutex
	seq     int64
	replies atomic.Int64
	done    chan struct{}
}

func dialPusher(addr, secret string) (*pusher, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	// protobuf on the push hop: the push request JSON travels as raw bytes
	// instead of an escaped JSON string (what PlexClient does too)
	p := &pusher{c: nc, w: pack.NewWriter(nc, pack.BigEndian, pack.Protobuf), done: make(chan struct{})}
	if err := p.w.WriteMessage(&pack.Message{URI: pack.URIInnerAuth, Body: []byte(secret)}); err != nil {
		return nil, err
	}
	if err := p.w.Flush(); err != nil {
		return nil, err
	}
	r := pack.NewReader(nc, pack.BigEndian, pack.Protobuf, 0)
	var m pack.Message
	if err := r.ReadMessage(&m); err != nil || m.URI != pack.URIAuthSuccess {
		nc.Close()
		return nil, fmt.Errorf("inner auth: %v %s", err, m.URI)
	}
	go func() {
		// count replies from the frame headers; decode only errors
		defer close(p.done)
		buf := make([]byte, 64<<10)
		dec := pack.NewDecoder(pack.BigEndian, 1<<20)
		for {
			n, err := nc.Read(buf)
			dec.Feed(buf[:n])
			for {
				body, ok, derr := dec.Next()
				if derr != nil || !ok {
					break
				}
				if bytes.Contains(body, []byte(pack.URIError)) {
					var m pack.Message
					if pack.Protobuf.Decode(body, &m) == nil && m.URI == pack.URIError {
						fmt.Println("# push error:", pack.ErrorOf(&m))
					}
				}
				p.replies.Add(1)
			}
			if err != nil {
				return
			}
		}
	}()
	return p, nil
}

type pushReq struct {
	UID  string `json:"uid,omitempty"`
	All  bool   `json:"all,omitempty"`
	URI  string `json:"uri"`
	Body string `json:"body"`
}

// queue adds a push to the current batch; flush writes the batch at once.
func (p *pusher) queue(r pushReq) error {
	body, _ := json.Marshal(r)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	return p.w.WriteMessage(&pack.Message{Seq: p.seq, URI: pack.URIPush, Body: body})
}

// frames encodes pushes up front, so that a measurement times the node,
// not the generator's JSON encoding.
func (p *pusher) frames(reqs func(yield func(pushReq) bool)) ([]byte, error) {
	var out []byte
	var err error
	for r := range reqs {
		body, _ := json.Marshal(r)
		p.seq++
		if out, err = pack.AppendFrame(out, pack.BigEndian, pack.Protobuf, &pack.Message{Seq: p.seq, URI: pack.URIPush, Body: body}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// writeRaw writes pre-encoded frames.
func (p *pusher) writeRaw(b []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := p.c.Write(b)
	return err
}

func (p *pusher) flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.w.Flush()
}

func (p *pusher) close() {
	p.c.Close()
	<-p.done
}
