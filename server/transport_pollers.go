package server

import (
	"errors"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/lesismal/nbio"
)

// nbio v1.5.12's poller loop sets its shutdown flag to false when it
// starts, so an Engine.Stop that runs before every poller goroutine got that
// far is lost and Stop waits forever (a server closed right after New hits
// this in tests). waitPollers closes the window: it sends one byte through
// a probe connection on each poller and returns once every poller has
// delivered it, i.e. is inside its loop.
//
// A probe on a poller is closed by that poller (its peer hangs up and the
// poller reads the end), never from here: a descriptor closed by another
// goroutine while its poller holds an event for it lets nbio apply the
// event to the next connection that gets the same number; a hang-up event
// would close a client's fresh connection (seen: ~1 in 1,000 test runs).

// pollerProbe is the session value of a probe connection.
type pollerProbe struct{ seen, closed chan struct{} }

func waitPollers(e *nbio.Engine, pollers int) error {
	covered := make(map[int]bool, pollers)
	var probes []*nbio.Conn
	defer func() {
		for _, c := range probes {
			c.Close()
		}
	}()
	for attempt := 0; len(covered) < pollers; attempt++ {
		if attempt > 16*pollers {
			return errors.New("server: event loop pollers did not start")
		}
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		f := os.NewFile(uintptr(fds[0]), "plex-probe")
		nc, err := net.FileConn(f) // dups fds[0]
		f.Close()
		peer := os.NewFile(uintptr(fds[1]), "plex-probe-peer")
		if err != nil {
			peer.Close()
			return err
		}
		c, err := nbio.NBConn(nc)
		if err != nil {
			peer.Close()
			return err
		}
		idx := c.Hash() % pollers
		if covered[idx] {
			// keep it open until the end so the next probe gets another
			// fd; it is on no poller, so closing it here is safe
			probes = append(probes, c)
			peer.Close()
			continue
		}
		p := &pollerProbe{seen: make(chan struct{}, 1), closed: make(chan struct{})}
		c.SetSession(p)
		if _, err := e.AddConn(c); err != nil {
			peer.Close()
			return err
		}
		_, _ = peer.Write([]byte{0})
		select {
		case <-p.seen:
		case <-time.After(5 * time.Second):
			peer.Close()
			return errors.New("server: event loop poller did not answer")
		}
		peer.Close() // the poller reads the end and closes c
		select {
		case <-p.closed:
		case <-time.After(5 * time.Second):
			return errors.New("server: event loop poller did not close its probe")
		}
		covered[idx] = true
	}
	return nil
}
