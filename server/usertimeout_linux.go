package server

import (
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// setWriteTimeout makes the kernel enforce Config.WriteTimeout: with
// TCP_USER_TIMEOUT, a connection whose sent data stays unacknowledged, or
// whose queued data cannot be sent because the peer's window stays at zero
// (it does not read), for that long is reset with ETIMEDOUT (tcp(7)). That
// is a write deadline that costs nothing per write and no timer per
// connection; the event loop sees the error and the session closes as a
// slow consumer.
func setWriteTimeout(nc net.Conn, d time.Duration) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(d.Milliseconds()))
	})
}
