package server

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/lesismal/nbio"
)

// pollers keeps one probe connection on each poller of the event loop and
// uses it for two guards nbio v1.5.12 needs.
//
// Descriptor reuse. nbio applies an epoll event to whichever connection
// holds the event's descriptor number when the poller gets to it. When a
// write fails or overflows Config.WriteQueueBytes, nbio closes the
// connection from the goroutine that wrote, while its poller may hold an
// event for the descriptor (a peer's reset raises both at once); a
// connection accepted next gets the same number, and the stale hang-up
// event would close it. So every write from the node goes through
// pollers.writev, which parks the number of a descriptor its write closed
// until the poller has finished the events it held (a barrier: one byte
// through the poller's probe, which the poller reads in a later batch of
// events), and a new connection given a parked number waits for that
// barrier before it joins the event loop (admit). Everything else the node
// closes, it closes by shutting the socket down so that the poller reads
// the end and closes it (Session.shutdownFD).
//
// Start. nbio's poller loop sets its shutdown flag to false when it
// starts, so an Engine.Stop that runs before every poller goroutine got
// that far is lost and Stop waits forever; newPollers returns once every
// poller has delivered one barrier, i.e. is inside its loop.
type pollers struct {
	probes []*pollerProbe // by poller: nbio puts descriptor fd on poller fd % len
	locks  [64]paddedRWMutex

	mu      sync.Mutex
	parked  map[int]chan struct{} // descriptor number → its poller's barrier
	stopped bool
}

// pollerProbe is the session value of a poller's probe connection; peer is
// the other end of its socket pair, written one byte per barrier.
type pollerProbe struct {
	of      *pollers
	peer    int
	waiting []barrier // in the order their bytes were written; under pollers.mu
}

type barrier struct {
	fd   int // the parked descriptor number, -1 for none
	done chan struct{}
}

// errPollerStuck: a poller did not read its probe in time.
var errPollerStuck = errors.New("server: event loop poller did not answer")

// newPollers adds a probe connection to each of e's n pollers.
func newPollers(e *nbio.Engine, n int) (*pollers, error) {
	p := &pollers{probes: make([]*pollerProbe, n), parked: make(map[int]chan struct{})}
	var spare []*nbio.Conn // probes that landed on a covered poller: on no poller, safe to close here
	defer func() {
		for _, c := range spare {
			c.Close()
		}
	}()
	covered := 0
	for attempt := 0; covered < n; attempt++ {
		if attempt > 16*n {
			p.stop()
			return nil, errors.New("server: event loop pollers did not start")
		}
		c, peer, err := probePair()
		if err != nil {
			p.stop()
			return nil, err
		}
		idx := c.Hash() % n
		if p.probes[idx] != nil {
			spare = append(spare, c) // keep it open so that the next probe gets another number
			syscall.Close(peer)
			continue
		}
		pr := &pollerProbe{of: p, peer: peer}
		c.SetSession(pr)
		p.probes[idx] = pr
		if _, err := e.AddConn(c); err != nil {
			p.stop()
			return nil, err
		}
		select {
		case <-p.barrier(idx, -1):
		case <-time.After(5 * time.Second):
			p.stop()
			return nil, errPollerStuck
		}
		covered++
	}
	return p, nil
}

// probePair returns an nbio connection and the descriptor of its peer, a
// non-blocking unix socket pair.
func probePair() (*nbio.Conn, int, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, 0, err
	}
	f := os.NewFile(uintptr(fds[0]), "plex-probe")
	nc, err := net.FileConn(f) // dups fds[0]
	f.Close()
	if err != nil {
		syscall.Close(fds[1])
		return nil, 0, err
	}
	c, err := nbio.NBConn(nc) // dups again; closes nc
	if err != nil {
		syscall.Close(fds[1])
		return nil, 0, err
	}
	return c, fds[1], nil
}

// barrier returns a channel closed once poller idx has read a byte written
// now, i.e. has finished every event it held before. fd >= 0 is parked
// until then.
func (p *pollers) barrier(idx, fd int) chan struct{} {
	done := make(chan struct{})
	p.mu.Lock()
	defer p.mu.Unlock()
	pr := p.probes[idx]
	if p.stopped || pr == nil {
		close(done)
		return done
	}
	if _, err := syscall.Write(pr.peer, []byte{0}); err != nil {
		// Not expected: the poller reads every byte each turn and at most
		// one is written per closed connection. Unguarded rather than stuck.
		close(done)
		return done
	}
	pr.waiting = append(pr.waiting, barrier{fd: fd, done: done})
	if fd >= 0 {
		p.parked[fd] = done
	}
	return done
}

// arrived runs on pr's poller for n bytes read: those barriers passed.
func (pr *pollerProbe) arrived(n int) {
	p := pr.of
	p.mu.Lock()
	defer p.mu.Unlock()
	for ; n > 0 && len(pr.waiting) > 0; n-- {
		b := pr.waiting[0]
		pr.waiting = pr.waiting[1:]
		close(b.done)
		if b.fd >= 0 && p.parked[b.fd] == b.done {
			delete(p.parked, b.fd)
		}
	}
}

// lock is the lock that orders writes to descriptor fd before admit of a
// connection given the same number (striped: no memory per connection).
func (p *pollers) lock(fd int) *sync.RWMutex { return &p.locks[fd%len(p.locks)].RWMutex }

// paddedRWMutex fills a cache line, so that writers on different pollers
// (cores) taking neighbouring stripes do not bounce one line between them.
type paddedRWMutex struct {
	sync.RWMutex
	_ [64 - 24]byte
}

// writev writes bufs to nb (nbio's Writev) and parks its descriptor number
// if the write closed it.
func (p *pollers) writev(nb *nbio.Conn, bufs [][]byte) (int, error) {
	fd := nb.Hash()
	l := p.lock(fd)
	l.RLock()
	defer l.RUnlock()
	n, err := nb.Writev(bufs)
	if err != nil {
		p.parkIfClosed(nb, fd)
	}
	return n, err
}

// write is writev for one buffer (nbio writes one buffer as Write does).
func (p *pollers) write(nb *nbio.Conn, b []byte) error {
	_, err := p.writev(nb, [][]byte{b})
	return err
}

func (p *pollers) parkIfClosed(nb *nbio.Conn, fd int) {
	nb.Lock()
	closed, _ := nb.IsClosed()
	nb.Unlock()
	if closed {
		p.barrier(fd%len(p.probes), fd)
	}
}

// admit returns once a connection whose descriptor is nb may join the event
// loop: at once, unless a write closed the last connection with its number
// and that poller has not finished the events it held then.
func (p *pollers) admit(nb *nbio.Conn) {
	fd := nb.Hash()
	l := p.lock(fd)
	l.Lock() // a write that closed this number has parked it by now
	p.mu.Lock()
	done := p.parked[fd]
	p.mu.Unlock()
	l.Unlock()
	if done == nil {
		return
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		// a poller stuck this long has stopped the node's connections anyway
	}
}

// stop releases every barrier and closes the probes' peers; the event loop
// has stopped (or never started).
func (p *pollers) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.stopped = true
	for _, pr := range p.probes {
		if pr == nil {
			continue
		}
		for _, b := range pr.waiting {
			close(b.done)
		}
		pr.waiting = nil
		syscall.Close(pr.peer)
	}
	clear(p.parked)
}
