package vendorpush_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/lesismal/nbio/logging"
	"go.uber.org/goleak"

	"github.com/plexpush/plex/vendorpush"
)

func TestMain(m *testing.M) {
	logging.SetLevel(logging.LevelNone) // the node's event loop (server_test.go) logs to stdout
	// IgnoreCurrent: nbio starts a process-wide task pool when its package
	// is initialised, before any test; every goroutine a test starts must end.
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

// logBuf is a goroutine-safe buffer behind a JSON slog handler.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger() (*slog.Logger, *logBuf) {
	b := &logBuf{}
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// recorder is a Sender that records what it is asked to send and answers
// with fn (nil: success).
type recorder struct {
	mu   sync.Mutex
	sent []vendorpush.Notification
	fn   func(ctx context.Context, n vendorpush.Notification) error
}

func (r *recorder) Send(ctx context.Context, n vendorpush.Notification) error {
	r.mu.Lock()
	r.sent = append(r.sent, n)
	fn := r.fn
	r.mu.Unlock()
	if fn != nil {
		return fn(ctx, n)
	}
	return nil
}

func (r *recorder) got() []vendorpush.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]vendorpush.Notification(nil), r.sent...)
}

func (r *recorder) tokens() []string {
	var t []string
	for _, n := range r.got() {
		t = append(t, n.Token)
	}
	return t
}

// start makes a Dispatcher that is closed when the test ends.
func start(t *testing.T, reg vendorpush.DeviceRegistry, senders map[vendorpush.Platform]vendorpush.Sender, cfg vendorpush.Config) *vendorpush.Dispatcher {
	t.Helper()
	d, err := vendorpush.New(reg, senders, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}
