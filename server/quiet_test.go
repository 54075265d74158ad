package server_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/server"
)

const quietChildEnv = "PLEX_TEST_QUIET_CHILD"

// quietChild starts and stops a node with a nil Logger in a process whose
// nbio logger was never touched.
func quietChild() {
	srv, err := server.New(server.Config{Authenticator: auth.None{}})
	if err != nil {
		panic(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() { _ = srv.Serve(ln) }()
	_ = srv.Shutdown(context.Background())
}

// TestNBIOIsSilent: a nil Config.Logger means silent, nbio's own logger
// included (it printed INFO lines on every engine start and stop, and each
// embedder had to silence it).
func TestNBIOIsSilent(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), quietChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Empty(t, string(out))
}
