package server

import (
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestTuneSocket(t *testing.T) {
	lc := net.ListenConfig{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: time.Second}}
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	nc, err := ln.Accept()
	require.NoError(t, err)
	defer nc.Close()
	opt := func(level, name int) int {
		raw, err := nc.(syscall.Conn).SyscallConn()
		require.NoError(t, err)
		var v int
		require.NoError(t, raw.Control(func(fd uintptr) { v, err = unix.GetsockoptInt(int(fd), level, name) }))
		require.NoError(t, err)
		return v
	}
	require.Equal(t, 1, opt(unix.SOL_SOCKET, unix.SO_KEEPALIVE), "the listener enabled keepalive")
	tuneSocket(nc, 1500*time.Millisecond)
	require.Equal(t, 0, opt(unix.SOL_SOCKET, unix.SO_KEEPALIVE), "keepalive off: the heartbeat is liveness")
	require.Equal(t, 1500, opt(unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT))
}
