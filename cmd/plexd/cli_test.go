package main

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHelpIsOutput: -h prints the usage on stdout and exits 0, without an
// error line.
func TestHelpIsOutput(t *testing.T) {
	for _, arg := range []string{"-h", "-help"} {
		var stdout, stderr syncBuf
		require.Equal(t, 0, run(context.Background(), []string{arg}, noEnv, &stdout, &stderr), arg)
		require.Empty(t, stderr.String(), arg)
		require.Contains(t, stdout.String(), "Usage: plexd [flags]")
		require.Contains(t, stdout.String(), "-inner-secret")
	}
}

// TestUnknownFlagSaidOnce: the error once, then where the flags are; not
// the whole usage.
func TestUnknownFlagSaidOnce(t *testing.T) {
	var stdout, stderr syncBuf
	require.Equal(t, 2, run(context.Background(), []string{"-bogus"}, noEnv, &stdout, &stderr))
	require.Equal(t, 1, strings.Count(stderr.String(), "-bogus"), stderr.String())
	require.NotContains(t, stderr.String(), "-inner-secret", "no usage dump")
	require.Contains(t, stderr.String(), "plexd -h")
	require.Empty(t, stdout.String())
}

// TestJWTWithoutKeyNamesTheFlags: the error names plexd's flags, not the
// library's fields.
func TestJWTWithoutKeyNamesTheFlags(t *testing.T) {
	var stderr syncBuf
	require.Equal(t, 1, run(context.Background(), []string{"-auth", "jwt", "-addr", "127.0.0.1:0", "-http", ""}, noEnv, &syncBuf{}, &stderr))
	require.Contains(t, stderr.String(), "-jwt-secret")
	require.Contains(t, stderr.String(), "-jwt-public-key")
	require.NotContains(t, stderr.String(), "HMACSecret")
}

// TestPortInUseFailsFirst: a port in use is reported before the data
// directory or the store is created.
func TestPortInUseFailsFirst(t *testing.T) {
	for _, flag := range []string{"-addr", "-http", "-inner-addr", "-pprof"} {
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		dir := filepath.Join(t.TempDir(), "data")
		args := map[string]string{"-addr": "127.0.0.1:0", "-http": "127.0.0.1:0", "-data-dir": dir}
		args[flag] = busy.Addr().String()
		var list []string
		for k, v := range args {
			list = append(list, k, v)
		}
		var stderr syncBuf
		code := run(context.Background(), list, noEnv, &syncBuf{}, &stderr)
		busy.Close()
		require.Equal(t, 1, code, flag)
		require.Contains(t, stderr.String(), "plexd: "+flag+": listen tcp", flag)
		require.NoDirExists(t, dir, "%s: nothing created before the ports are held", flag)
	}
}
