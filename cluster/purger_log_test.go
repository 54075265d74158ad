package cluster_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/cluster"
	"github.com/plexpush/plex/cluster/embedded"
)

// warnings counts the records at Warn and above whose message contains sub.
type warnings struct {
	sub string
	mu  sync.Mutex
	n   int
}

func (w *warnings) Enabled(context.Context, slog.Level) bool { return true }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn && strings.Contains(r.Message, w.sub) {
		w.mu.Lock()
		w.n++
		w.mu.Unlock()
	}
	return nil
}
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnings) WithGroup(string) slog.Handler      { return w }

func (w *warnings) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// Purges due when the node's NATS connection closes (the node is
// stopping) are not worth a warning per user: a stop used to log one
// identical "purge acked pushes: nats: connection closed" line per user
// with acks waiting.
func TestPurgesAfterTheConnectionClosedWarnNothing(t *testing.T) {
	s, err := embedded.Start(embedded.Config{StoreDir: t.TempDir()})
	require.NoError(t, err)
	defer s.Shutdown()
	nc, err := s.Connect()
	require.NoError(t, err)
	w := &warnings{sub: "purge"}
	c, err := cluster.New(cluster.Config{Conn: nc, Logger: slog.New(w)})
	require.NoError(t, err)
	st := c.Store()
	for i := range 10 {
		uid := fmt.Sprintf("u%d", i)
		seqs := appendN(t, st, uid, 2, time.Hour)
		require.NoError(t, st.Ack(context.Background(), uid, "phone", seqs[0]))
	}
	nc.Close()
	st.FlushPurges()
	require.Zero(t, w.count(), "no warning per user when the connection is closed")
}
