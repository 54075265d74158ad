package cluster_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/cluster"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// holdProxy forwards one TCP connection to a NATS server; while held, what
// the server sends is kept back (not dropped: the protocol stream stays
// whole) until release.
type holdProxy struct {
	ln   net.Listener
	mu   sync.Mutex
	held bool
	wake chan struct{}
	wg   sync.WaitGroup
}

func newHoldProxy(t *testing.T, target string) *holdProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &holdProxy{ln: ln, wake: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.wg.Add(2)
			go func() { defer p.wg.Done(); _, _ = io.Copy(s, c); s.Close() }()
			go func() { defer p.wg.Done(); p.copyHeld(c, s); c.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close(); p.release(); p.wg.Wait() })
	return p
}

func (p *holdProxy) copyHeld(dst io.Writer, src io.ReadCloser) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for {
			p.mu.Lock()
			held, wake := p.held, p.wake
			p.mu.Unlock()
			if !held {
				break
			}
			<-wake
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *holdProxy) hold() {
	p.mu.Lock()
	p.held = true
	p.mu.Unlock()
}

func (p *holdProxy) release() {
	p.mu.Lock()
	if p.held {
		p.held = false
		close(p.wake)
		p.wake = make(chan struct{})
	}
	p.mu.Unlock()
}

func (p *holdProxy) url() string { return "nats://" + p.ln.Addr().String() }

// TestStoreOutcomeUnknown: an append that reached JetStream but whose answer
// never came back fails with server.ErrOutcomeUnknown (3008), not with
// ErrUnavailable (3005, "not stored, retry"): it was stored.
func TestStoreOutcomeUnknown(t *testing.T) {
	s := natsServers(t, 1)[0]
	p := newHoldProxy(t, strings.TrimPrefix(s.ClientURL(), "nats://"))
	nc, err := nats.Connect(p.url(), nats.PingInterval(time.Hour))
	require.NoError(t, err)
	defer nc.Close()
	c, err := cluster.New(cluster.Config{Conn: nc, RequestTimeout: 200 * time.Millisecond, AppendTimeout: time.Second})
	require.NoError(t, err)
	ctx := context.Background()
	m := pack.Message{URI: "/p", Body: []byte("first")}
	_, _, err = c.Store().AppendAfter(ctx, "alice", &m, time.Hour) // opens the stream
	require.NoError(t, err)

	p.hold()
	m = pack.Message{URI: "/p", Body: []byte("answer lost")}
	_, _, err = c.Store().AppendAfter(ctx, "alice", &m, time.Hour)
	require.ErrorIs(t, err, server.ErrOutcomeUnknown)
	require.NotErrorIs(t, err, cluster.ErrUnavailable)
	p.release()

	other := newStore(t, s, cluster.Config{})
	got, err := other.After(ctx, "alice", 0, 0)
	require.NoError(t, err)
	require.Equal(t, []string{"first", "answer lost"}, bodies(got), "the unknown outcome was a stored push")
}
