package server_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// cursorlessStore is a MemoryStore that cannot read or write device
// cursors for uids containing "broken".
type cursorlessStore struct{ *server.MemoryStore }

var errCursor = errors.New("test store: cursor unavailable")

func (s cursorlessStore) Cursor(ctx context.Context, uid, device string) (int64, error) {
	if strings.Contains(uid, "broken") {
		return 0, errCursor
	}
	return s.MemoryStore.Cursor(ctx, uid, device)
}

func (s cursorlessStore) Ack(ctx context.Context, uid, device string, seq int64) error {
	if strings.Contains(uid, "broken") {
		return errCursor
	}
	return s.MemoryStore.Ack(ctx, uid, device, seq)
}

// A store error during a login's replay is logged with the connection,
// never dropped; the login itself goes on (the app is served).
func TestLoginStoreErrorsLogged(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError}))
	n := startNode(t, server.Config{Logger: log, Store: cursorlessStore{server.NewMemoryStore(server.MemoryStoreConfig{})}})

	app(t, n.Addr, "broken-1", nil)                                   // no acks: reads the device's cursor
	app(t, n.Addr, "broken-2", map[string]string{pack.MetaAcks: "1"}) // acks: registers it
	out := buf.String()
	require.Contains(t, out, `"msg":"device cursor"`)
	require.Contains(t, out, `"msg":"store ack at login"`)
	require.Contains(t, out, errCursor.Error())
	require.True(t, n.Online(server.User("broken-1")) && n.Online(server.User("broken-2")))
}
