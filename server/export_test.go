package server

import "time"

// SetTransientWait changes how long a transient push waits behind a
// persistent one in flight (pipe.go) on a node with a store that does I/O.
func (srv *Server) SetTransientWait(d time.Duration) {
	srv.pipes.lateMu.Lock()
	srv.pipes.wait = d
	srv.pipes.lateMu.Unlock()
}

// AckDeadlines returns the ack deadlines the node keeps (ack_deadline.go).
func (srv *Server) AckDeadlines() int {
	if h, ok := srv.acksDue.(*ackHeap); ok {
		return h.len()
	}
	return 0
}
