package server

import (
	"net"
	"net/netip"
	"sync"
)

// preauthLimit bounds the connections one address (IPv6: its /64) holds on
// the app listeners before they authenticate (Config.MaxPreAuthPerAddress):
// a single source that opens connections and never logs in fills its own
// share, not MaxConnections, and apps from other addresses keep getting
// in. A connection counts from accept until it authenticates or closes
// (Session.preauth, under mu, makes whichever comes first uncount it).
type preauthLimit struct {
	max   int
	mu    sync.Mutex
	addrs map[netip.Prefix]int // only addresses with a connection counted
}

func newPreauthLimit(max int) *preauthLimit {
	if max <= 0 {
		return nil
	}
	return &preauthLimit{max: max, addrs: make(map[netip.Prefix]int)}
}

// preauthKey is the address a connection counts against; false: not an
// IP address (a unix socket, a test pipe), never limited.
func preauthKey(remote net.Addr) (netip.Prefix, bool) {
	if remote == nil {
		return netip.Prefix{}, false
	}
	return throttleKey(remote.String())
}

// take counts a new connection from remote; false when its address holds
// max already.
func (l *preauthLimit) take(remote net.Addr) bool {
	k, ok := preauthKey(remote)
	if l == nil || !ok {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.addrs[k] >= l.max {
		return false
	}
	l.addrs[k]++
	return true
}

// release uncounts s, whose address is remote, if it is still counted:
// exactly once, whether it authenticated or closed first.
func (l *preauthLimit) release(s *Session, remote net.Addr) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !s.preauth {
		return
	}
	s.preauth = false
	k, ok := preauthKey(remote)
	if !ok {
		return
	}
	if n := l.addrs[k] - 1; n > 0 {
		l.addrs[k] = n
	} else {
		delete(l.addrs, k)
	}
}

// leavePreauth uncounts s if it is still counted (it authenticated or
// closed).
func (srv *Server) leavePreauth(s *Session) {
	if srv.preauth != nil {
		srv.preauth.release(s, s.tr.RemoteAddr())
	}
}
