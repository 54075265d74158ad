package server

import (
	"syscall"
	"testing"
	"time"

	"github.com/lesismal/nbio"
	"github.com/stretchr/testify/require"
)

// blockedPoller is an event loop of one poller with its probes, and a
// connection whose data holds the poller until release is closed: events
// the poller fetched with it stay unprocessed meanwhile.
type blockedPoller struct {
	e       *nbio.Engine
	p       *pollers
	release chan struct{}
}

func newBlockedPoller(t *testing.T) *blockedPoller {
	t.Helper()
	b := &blockedPoller{e: nbio.NewEngine(nbio.Config{NPoller: 1}), release: make(chan struct{})}
	b.e.OnData(func(c *nbio.Conn, data []byte) {
		switch s := c.Session().(type) {
		case *pollerProbe:
			s.arrived(len(data))
		case chan struct{}:
			<-s
		}
	})
	require.NoError(t, b.e.Start())
	var err error
	b.p, err = newPollers(b.e, 1)
	require.NoError(t, err)
	t.Cleanup(func() {
		b.unblock()
		b.e.Stop()
		b.p.stop()
	})
	return b
}

// block holds the poller inside OnData.
func (b *blockedPoller) block(t *testing.T) {
	c, peer := b.conn(t, b.release)
	_ = c
	_, err := syscall.Write(peer, []byte{1})
	require.NoError(t, err)
	// the poller is held once a barrier behind it does not pass
	require.Never(t, func() bool {
		select {
		case <-b.p.barrier(0, -1):
			return true
		default:
			return false
		}
	}, 100*time.Millisecond, 10*time.Millisecond)
}

func (b *blockedPoller) unblock() {
	select {
	case <-b.release:
	default:
		close(b.release)
	}
}

// conn adds a socket-pair connection with session value v to the loop and
// returns it and its peer's descriptor (closed at cleanup).
func (b *blockedPoller) conn(t *testing.T, v any) (*nbio.Conn, int) {
	t.Helper()
	c, peer, err := probePair()
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(peer) })
	c.SetSession(v)
	_, err = b.e.AddConn(c)
	require.NoError(t, err)
	return c, peer
}

// A write that fails closes the descriptor off the poller: its number is
// parked, and a connection given that number joins the loop only after the
// poller finished the events it held (which may include a hang-up of the
// closed connection that would otherwise close the new one).
func TestWriteErrorParksTheDescriptorUntilThePollerPassed(t *testing.T) {
	b := newBlockedPoller(t)
	c, peer := b.conn(t, "victim")
	fd := c.Hash()
	b.block(t)

	syscall.Close(peer) // the peer is gone: the next write fails and nbio closes c here
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = b.p.writev(c, [][]byte{make([]byte, 64<<10)})
	}
	require.Error(t, err)
	b.p.mu.Lock()
	_, parked := b.p.parked[fd]
	b.p.mu.Unlock()
	require.True(t, parked, "a descriptor a write closed is parked")

	// The next connection gets the freed number.
	next, nextPeer, err := probePair()
	require.NoError(t, err)
	t.Cleanup(func() { next.Close(); syscall.Close(nextPeer) })
	require.Equal(t, fd, next.Hash(), "the kernel hands out the lowest free number")

	admitted := make(chan struct{})
	go func() { b.p.admit(next); close(admitted) }()
	require.Never(t, func() bool {
		select {
		case <-admitted:
			return true
		default:
			return false
		}
	}, 200*time.Millisecond, 10*time.Millisecond, "admitted while the poller held events of the closed descriptor")

	b.unblock()
	select {
	case <-admitted:
	case <-time.After(5 * time.Second):
		t.Fatal("not admitted after the poller passed")
	}
	b.p.mu.Lock()
	require.Empty(t, b.p.parked)
	b.p.mu.Unlock()
}

// A write that succeeds parks nothing, and admit does not wait.
func TestWritesThatSucceedParkNothing(t *testing.T) {
	b := newBlockedPoller(t)
	c, _ := b.conn(t, "ok")
	_, err := b.p.writev(c, [][]byte{[]byte("x")})
	require.NoError(t, err)
	require.NoError(t, b.p.write(c, []byte("y")))
	b.p.mu.Lock()
	require.Empty(t, b.p.parked)
	b.p.mu.Unlock()
	b.block(t)
	done := make(chan struct{})
	go func() { b.p.admit(c); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("admit waited for a number nobody parked")
	}
}
