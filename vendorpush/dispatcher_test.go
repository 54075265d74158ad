package vendorpush_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/vendorpush"
)

func chat(text string) *pack.Message {
	return &pack.Message{Seq: 9, URI: "/chat", Body: []byte(`{"text":"` + text + `"}`), Meta: map[string]string{"title": "Bob", "alert": text}}
}

func TestHookSendsToEveryDevice(t *testing.T) {
	reg := vendorpush.NewMemoryRegistry(0)
	require.NoError(t, reg.Add("alice", vendorpush.Device{Platform: vendorpush.APNs, Token: "apns-alice-iphone"}))
	require.NoError(t, reg.Add("alice", vendorpush.Device{Platform: vendorpush.FCM, Token: "fcm-alice-pixel"}))
	require.NoError(t, reg.Add("alice", vendorpush.Device{Platform: vendorpush.FCM, Token: "fcm-alice-tablet"}))
	ap, fc := &recorder{}, &recorder{}
	log, logs := newLogger()
	d := start(t, reg, map[vendorpush.Platform]vendorpush.Sender{vendorpush.APNs: ap, vendorpush.FCM: fc}, vendorpush.Config{Logger: log})

	m := chat("hi")
	d.Hook("alice", m, true)
	d.Hook("bob", chat("nobody home"), false)
	m.Body[2] = 'X' // the hook kept nothing of m
	m.Meta["alert"] = "changed"
	require.NoError(t, d.Shutdown(t.Context()))

	want := vendorpush.Notification{Title: "Bob", Body: "hi", Data: map[string]string{
		"uri": "/chat", "body": `{"text":"hi"}`, "seq": "9", "persist": "1"}}
	require.Equal(t, []string{"apns-alice-iphone"}, ap.tokens())
	require.ElementsMatch(t, []string{"fcm-alice-pixel", "fcm-alice-tablet"}, fc.tokens())
	for _, n := range append(ap.got(), fc.got()...) {
		n.Token = ""
		require.Equal(t, want, n)
	}
	require.Equal(t, vendorpush.Stats{Queued: 2, NoDevices: 1, Sent: 3}, d.Stats())
	require.NotContains(t, logs.String(), "alice-iphone", "a token was logged in full")
	require.Contains(t, logs.String(), vendorpush.Redact("apns-alice-iphone"))
}

// TestHookDevicePush: a push to one plex device (meta "device", as the
// node stamps it) reaches only the tokens registered by that device; none
// of that device: nothing is sent, and it is counted; a push without it
// reaches every token.
func TestHookDevicePush(t *testing.T) {
	reg := vendorpush.NewMemoryRegistry(0)
	for _, d := range []vendorpush.Device{
		{Platform: vendorpush.APNs, Token: "apns-alice-iphone", ID: "iphone"},
		{Platform: vendorpush.FCM, Token: "fcm-alice-pixel", ID: "pixel"},
		{Platform: vendorpush.WebPush, Token: "wp-alice-pixel-browser", ID: "pixel"},
		{Platform: vendorpush.FCM, Token: "fcm-alice-old-app"}, // registered without an id
	} {
		require.NoError(t, reg.Add("alice", d))
	}
	ap, fc, wp := &recorder{}, &recorder{}, &recorder{}
	log, logs := newLogger()
	d := start(t, reg, map[vendorpush.Platform]vendorpush.Sender{vendorpush.APNs: ap, vendorpush.FCM: fc, vendorpush.WebPush: wp},
		vendorpush.Config{Concurrency: 1, Logger: log})
	toDevice := func(device string) *pack.Message {
		m := chat("for " + device)
		m.Meta[pack.MetaDevice] = device
		return m
	}

	d.Hook("alice", toDevice("pixel"), true)
	d.Hook("alice", toDevice("watch"), true)
	require.NoError(t, d.Shutdown(t.Context()))
	require.Empty(t, ap.tokens(), "the iphone got the pixel's push")
	require.Equal(t, []string{"fcm-alice-pixel"}, fc.tokens(), "only the pixel's FCM token")
	require.Equal(t, []string{"wp-alice-pixel-browser"}, wp.tokens())
	require.Equal(t, vendorpush.Stats{Queued: 2, NoDevices: 1, Sent: 2}, d.Stats())
	require.Contains(t, logs.String(), `"msg":"vendorpush: no token of the push's device"`)
	require.Contains(t, logs.String(), `"plex_device":"watch"`)

	// Without meta "device": every token, as before.
	all := &recorder{}
	d = start(t, reg, map[vendorpush.Platform]vendorpush.Sender{vendorpush.APNs: all, vendorpush.FCM: all, vendorpush.WebPush: all},
		vendorpush.Config{})
	d.Hook("alice", chat("for everyone"), true)
	require.NoError(t, d.Shutdown(t.Context()))
	require.ElementsMatch(t, []string{"apns-alice-iphone", "fcm-alice-pixel", "wp-alice-pixel-browser", "fcm-alice-old-app"}, all.tokens())
}

// TestDevicePushRemovesInvalidToken: the Dispatcher removes
// an invalid token it found through a device push, whatever its id.
func TestDevicePushRemovesInvalidToken(t *testing.T) {
	reg := vendorpush.NewMemoryRegistry(0)
	require.NoError(t, reg.Add("alice", vendorpush.Device{Platform: vendorpush.FCM, Token: "fcm-gone", ID: "pixel"}))
	require.NoError(t, reg.Add("alice", vendorpush.Device{Platform: vendorpush.FCM, Token: "fcm-other", ID: "tablet"}))
	s := &recorder{fn: func(context.Context, vendorpush.Notification) error { return vendorpush.ErrInvalidToken }}
	d := start(t, reg, map[vendorpush.Platform]vendorpush.Sender{vendorpush.FCM: s}, vendorpush.Config{})
	m := chat("x")
	m.Meta[pack.MetaDevice] = "pixel"
	d.Hook("alice", m, true)
	require.NoError(t, d.Shutdown(t.Context()))
	require.Equal(t, []string{"fcm-gone"}, s.tokens())
	devs, _ := reg.Devices(t.Context(), "alice")
	require.Equal(t, []vendorpush.Device{{Platform: vendorpush.FCM, Token: "fcm-other", ID: "tablet"}}, devs)
}

func TestHookQueueAndConcurrencyBounds(t *testing.T) {
	const workers, queue, pushes = 3, 5, 20
	reg := vendorpush.NewMemoryRegistry(0)
	for i := range pushes {
		require.NoError(t, reg.Add(fmt.Sprint("u", i), vendorpush.Device{Platform: vendorpush.FCM, Token: fmt.Sprint("token-of-u", i)}))
	}
	gate := make(chan struct{})
	var inFlight, peak atomic.Int32
	s := &recorder{fn: func(ctx context.Context, _ vendorpush.Notification) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		select {
		case <-gate:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	log, logs := newLogger()
	d := start(t, reg, map[vendorpush.Platform]vendorpush.Sender{vendorpush.FCM: s},
		vendorpush.Config{Concurrency: workers, QueueSize: queue, Logger: log})

	// Fill the workers, then the queue.
	for i := range workers {
		d.Hook(fmt.Sprint("u", i), chat("x"), false)
		require.Eventually(t, func() bool { return inFlight.Load() == int32(i+1) }, 5*time.Second, time.Millisecond)
	}
	for i := workers; i < workers+queue; i++ {
		d.Hook(fmt.Sprint("u", i), chat("x"), false)
	}
	require.Equal(t, queue, d.Pending())

	// Everything else is dropped, and Hook does not wait for a worker.
	done := make(chan struct{})
	go func() {
		for i := workers + queue; i < pushes; i++ {
			d.Hook(fmt.Sprint("u", i), chat("x"), false)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Hook blocked on a full queue")
	}
	require.EqualValues(t, pushes-workers-queue, d.Stats().Dropped)
	require.Equal(t, 1, strings.Count(logs.String(), `"reason":"queue full"`), "drops not logged once per second:\n%s", logs)

	close(gate)
	require.NoError(t, d.Shutdown(t.Context()))
	st := d.Stats()
	require.EqualValues(t, workers+queue, st.Sent)
	require.EqualValues(t, workers+queue, st.Queued)
	require.EqualValues(t, workers, peak.Load(), "sends in flight")
}

func TestShutdownDrainsThenRefuses(t *testing.T) {
	reg := vendorpush.NewMemoryRegistry(0)
	require.NoError(t, reg.Add("alice", vendorpush.Device{Platform: vendorpush.FCM, Token: "t-alice-0001"}))
	s := &recorder{fn: func(context.Context, vendorpush.Notification) error { time.Sleep(time.Millisecond); return nil }}
	d := start(t, reg, map[vendorpush.Platform]vendorpush.Sender{vendorpush.FCM: s}, vendorpush.Config{Concurrency: 2})
	for i := range 10 {
		d.Hook("alice", chat(fmt.Sprint(i)), false)
	}
	require.NoError(t, d.Shutdown(t.Context()))
	require.Len(t, s.got(), 10, "Shutdown did not send what was queued")

	d.Hook("alice", chat("late"), false)
	require.EqualValues(t, 1, d.Stats().Discarded)
	require.Len(t, s.got(), 10)
	require.ErrorIs(t, d.Shutdown(t.Context()), vendorpush.ErrClosed)
	require.ErrorIs(t, d.Close(), vendorpush.ErrClosed)
}

func TestShutdownDeadlineCancelsSends(t *testing.T) {
	reg := vendorpush.NewMemoryRegistry(0)
	require.NoError(t, reg.Add("alice", vendorpush.Device{Platform: vendorpush.FCM, Token: "t-alice-0001"}))
	cause := make(chan error, 1)
	s := &recorder{fn: func(ctx context.Context, _ vendorpush.Notification) error {
		<-ctx.Done() // a vendor that never answers
		cause <- ctx.Err()
		return ctx.Err()
	}}
	d := start(t, reg, map[vendorpush.Platform]vendorpush.Sender{vendorpush.FCM: s}, vendorpush.Config{Concurrency: 1})
	for range 4 {
		d.Hook("alice", chat("x"), false)
	}
	require.Eventually(t, func() bool { return len(s.got()) == 1 }, 5*time.Second, time.Millisecond)

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	require.ErrorIs(t, d.Shutdown(ctx), context.DeadlineExceeded)
	require.Less(t, time.Since(start), 5*time.Second)
	require.ErrorIs(t, <-cause, context.Canceled, "the send in flight was not cancelled")
	st := d.Stats()
	require.EqualValues(t, 3, st.Discarded, "queued pushes after the deadline")
	require.EqualValues(t, 1, st.Failed)
	require.Len(t, s.got(), 1)
}

func TestCloseCancelsAtOnce(t *testing.T) {
	reg := vendorpush.NewMemoryRegistry(0)
	require.NoError(t, reg.Add("alice", vendorpush.Device{Platform: vendorpush.FCM, Token: "t-alice-0001"}))
	s := &recorder{fn: func(ctx context.Context, _ vendorpush.Notification) error { <-ctx.Done(); return ctx.Err() }}
	d, err := vendorpush.New(reg, map[vendorpush.Platform]vendorpush.Sender{vendorpush.FCM: s}, vendorpush.Config{Concurrency: 1})
	require.NoError(t, err)
	d.Hook("alice", chat("x"), false)
	d.Hook("alice", chat("y"), false)
	require.Eventually(t, func() bool { return len(s.got()) == 1 }, 5*time.Second, time.Millisecond)
	require.NoError(t, d.Close())
	require.EqualValues(t, 1, d.Stats().Discarded)
}

func TestCloseCutsShutdownShort(t *testing.T) {
	reg := vendorpush.NewMemoryRegistry(0)
	require.NoError(t, reg.Add("alice", vendorpush.Device{Platform: vendorpush.FCM, Token: "t-alice-0001"}))
	s := &recorder{fn: func(ctx context.Context, _ vendorpush.Notification) error { <-ctx.Done(); return ctx.Err() }}
	d := start(t, reg, map[vendorpush.Platform]vendorpush.Sender{vendorpush.FCM: s}, vendorpush.Config{Concurrency: 1})
	d.Hook("alice", chat("x"), false)
	require.Eventually(t, func() bool { return len(s.got()) == 1 }, 5*time.Second, time.Millisecond)
	shut := make(chan error, 1)
	go func() { shut <- d.Shutdown(context.Background()) }() // would wait forever
	require.Eventually(t, func() bool { d.Hook("alice", chat("late"), false); return d.Stats().Discarded > 0 },
		5*time.Second, time.Millisecond, "Shutdown did not start")
	require.ErrorIs(t, d.Close(), vendorpush.ErrClosed)
	select {
	case err := <-shut:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end Shutdown")
	}
}

func TestSendTimeout(t *testing.T) {
	reg := vendorpush.NewMemoryRegistry(0)
	require.NoError(t, reg.Add("alice", vendorpush.Device{Platform: vendorpush.FCM, Token: "t-alice-0001"}))
	s := &recorder{fn: func(ctx context.Context, _ vendorpush.Notification) error { <-ctx.Done(); return ctx.Err() }}
	log, logs := newLogger()
	d := start(t, reg, map[vendorpush.Platform]vendorpush.Sender{vendorpush.FCM: s},
		vendorpush.Config{SendTimeout: 20 * time.Millisecond, Logger: log})
	d.Hook("alice", chat("x"), false)
	require.NoError(t, d.Shutdown(t.Context()))
	require.Equal(t, vendorpush.Stats{Queued: 1, Failed: 1}, d.Stats())
	require.Contains(t, logs.String(), `"level":"WARN","msg":"vendorpush: send failed"`)
	require.Contains(t, logs.String(), "deadline exceeded")
}

func TestSendOutcomes(t *testing.T) {
	var errVendor = errors.New("vendor said no")
	tests := []struct {
		name    string
		err     error
		stats   vendorpush.Stats
		level   string
		remains bool
	}{
		{"invalid token is removed", fmt.Errorf("x: %w", vendorpush.ErrInvalidToken), vendorpush.Stats{Queued: 1, Failed: 1, Removed: 1}, "INFO", false},
		{"auth error is an Error", fmt.Errorf("x: %w", vendorpush.ErrAuth), vendorpush.Stats{Queued: 1, Failed: 1}, "ERROR", true},
		{"other error is a Warn", errVendor, vendorpush.Stats{Queued: 1, Failed: 1}, "WARN", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := vendorpush.NewMemoryRegistry(0)
			dev := vendorpush.Device{Platform: vendorpush.APNs, Token: "0123456789abcdef0123"}
			require.NoError(t, reg.Add("alice", dev))
			s := &recorder{fn: func(context.Context, vendorpush.Notification) error { return tt.err }}
			log, logs := newLogger()
			d := start(t, reg, map[vendorpush.Platform]vendorpush.Sender{vendorpush.APNs: s}, vendorpush.Config{Logger: log})
			d.Hook("alice", chat("x"), false)
			require.NoError(t, d.Shutdown(t.Context()))
			require.Equal(t, tt.stats, d.Stats())
			devs, _ := reg.Devices(t.Context(), "alice")
			require.Equal(t, tt.remains, len(devs) == 1, "device still registered")
			require.Contains(t, logs.String(), `"level":"`+tt.level+`"`)
			require.NotContains(t, logs.String(), dev.Token)
		})
	}
}

func TestMapAndPlatforms(t *testing.T) {
	reg := vendorpush.NewMemoryRegistry(0)
	require.NoError(t, reg.Add("alice", vendorpush.Device{Platform: "hms", Token: "huawei-token-1"}))
	require.NoError(t, reg.Add("alice", vendorpush.Device{Platform: vendorpush.FCM, Token: "fcm-token-1"}))
	s := &recorder{}
	var mapped []string
	var mu sync.Mutex
	d := start(t, reg, map[vendorpush.Platform]vendorpush.Sender{vendorpush.FCM: s}, vendorpush.Config{
		Map: func(uid string, m *pack.Message, persisted bool) (vendorpush.Notification, bool) {
			mu.Lock()
			mapped = append(mapped, uid+m.URI)
			mu.Unlock()
			if m.URI == "/typing" {
				return vendorpush.Notification{}, false
			}
			n, ok := vendorpush.MapMessage(uid, m, persisted)
			n.Title = "for " + uid
			return n, ok
		},
	})
	d.Hook("alice", &pack.Message{URI: "/typing"}, false)
	d.Hook("alice", &pack.Message{URI: "/chat"}, false)
	d.Hook("alice", &pack.Message{URI: "/chat", Meta: map[string]string{"push": "0"}}, false)
	require.NoError(t, d.Shutdown(t.Context()))
	require.Equal(t, []string{"alice/typing", "alice/chat", "alice/chat"}, mapped)
	// /typing and push=0 are skipped; the one queued push reaches the FCM
	// device, and the "hms" device has no Sender.
	require.Equal(t, vendorpush.Stats{Queued: 1, Skipped: 2, Sent: 1, NoSender: 1}, d.Stats())
	got := s.got()
	require.Len(t, got, 1)
	require.Equal(t, "for alice", got[0].Title)
}

type failingRegistry struct{ vendorpush.DeviceRegistry }

func (failingRegistry) Devices(context.Context, string) ([]vendorpush.Device, error) {
	return nil, errors.New("database down")
}

func TestRegistryFailure(t *testing.T) {
	log, logs := newLogger()
	d := start(t, failingRegistry{}, map[vendorpush.Platform]vendorpush.Sender{vendorpush.FCM: &recorder{}}, vendorpush.Config{Logger: log})
	d.Hook("alice", chat("x"), false)
	require.NoError(t, d.Shutdown(t.Context()))
	require.Equal(t, vendorpush.Stats{Queued: 1, NoDevices: 1}, d.Stats())
	require.Contains(t, logs.String(), "database down")
}

func TestNewErrors(t *testing.T) {
	reg := vendorpush.NewMemoryRegistry(0)
	ok := map[vendorpush.Platform]vendorpush.Sender{vendorpush.FCM: &recorder{}}
	for name, f := range map[string]func() error{
		"nil registry": func() error { _, err := vendorpush.New(nil, ok, vendorpush.Config{}); return err },
		"no sender":    func() error { _, err := vendorpush.New(reg, nil, vendorpush.Config{}); return err },
		"nil sender": func() error {
			_, err := vendorpush.New(reg, map[vendorpush.Platform]vendorpush.Sender{vendorpush.FCM: nil}, vendorpush.Config{})
			return err
		},
		"negative workers": func() error { _, err := vendorpush.New(reg, ok, vendorpush.Config{Concurrency: -1}); return err },
		"negative timeout": func() error { _, err := vendorpush.New(reg, ok, vendorpush.Config{SendTimeout: -1}); return err },
	} {
		require.ErrorIs(t, f(), vendorpush.ErrBadConfig, name)
	}
}
