package embedded_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/cluster/embedded"
)

// MaxStore is JetStream's disk limit; zero leaves nats-server's default.
func TestMaxStore(t *testing.T) {
	s, err := embedded.Start(embedded.Config{StoreDir: t.TempDir(), MaxStore: 64 << 20})
	require.NoError(t, err)
	defer s.Shutdown()
	require.EqualValues(t, 64<<20, s.JetStreamMaxStore())
}
