//go:build !linux

package server

import (
	"net"
	"time"
)

// setWriteTimeout is a no-op where TCP_USER_TIMEOUT does not exist; the
// write queue bound (Config.WriteQueueBytes) still drops slow consumers.
func setWriteTimeout(net.Conn, time.Duration) {}
