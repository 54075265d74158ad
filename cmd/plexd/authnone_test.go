package main

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAuthNoneGuardCoversEveryLoginListener: -auth none is refused without
// -force when any listener that takes app logins is not loopback-only:
// -addr (TCP) and -http, which serves the WebSocket transport. The
// push-client-only -inner-addr does not count. Apps of the config file
// with "auth":"none" get the same rule (loadApps calls authenticator).
func TestAuthNoneGuardCoversEveryLoginListener(t *testing.T) {
	for _, tc := range []struct {
		addr, http, inner string
		force             bool
		refused           string // the flag named in the error, "" when allowed
	}{
		{"127.0.0.1:0", "127.0.0.1:0", "", false, ""},
		{"localhost:9578", "[::1]:9579", "", false, ""},
		{"127.0.0.1:0", "", "", false, ""},
		{"127.0.0.1:0", "127.0.0.1:0", "0.0.0.0:9577", false, ""},
		{"0.0.0.0:0", "127.0.0.1:0", "", false, "-addr"},
		{":9578", "", "", false, "-addr"},
		{"127.0.0.1:0", "0.0.0.0:0", "", false, "-http"}, // issue 12: WebSocket logins on a public port
		{"127.0.0.1:0", ":9579", "", false, "-http"},
		{"127.0.0.1:0", "10.0.0.5:9579", "", false, "-http"},
		{"127.0.0.1:0", "0.0.0.0:0", "", true, ""},
		{"0.0.0.0:0", "0.0.0.0:0", "", true, ""},
	} {
		o := &options{Auth: "none", Addr: tc.addr, HTTP: tc.http, InnerAddr: tc.inner, Force: tc.force}
		_, err := authenticator(o, slog.New(slog.DiscardHandler))
		if tc.refused == "" {
			require.NoError(t, err, "%+v", tc)
			continue
		}
		require.ErrorContains(t, err, "-auth none with "+tc.refused, "%+v", tc)
		require.ErrorContains(t, err, "-force", "%+v", tc)
	}
}

// TestAuthNoneRefusesPublicHTTP is issue 12's command line: loopback TCP,
// public HTTP, no -force. plexd must not start.
func TestAuthNoneRefusesPublicHTTP(t *testing.T) {
	var stderr syncBuf
	code := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-http", "0.0.0.0:0", "-auth", "none"}, noEnv, &syncBuf{}, &stderr)
	require.Equal(t, 1, code)
	require.Contains(t, stderr.String(), "-http")
	require.Contains(t, stderr.String(), "-force")
}
