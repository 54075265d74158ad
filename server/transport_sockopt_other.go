//go:build !linux

package server

import (
	"net"
	"time"
)

// tuneSocket turns keepalive off (liveness is the protocol's heartbeat).
// TCP_USER_TIMEOUT does not exist here; the write queue bound
// (Config.WriteQueueBytes) still drops slow consumers.
func tuneSocket(nc net.Conn, _ time.Duration) {
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetKeepAlive(false)
	}
}
