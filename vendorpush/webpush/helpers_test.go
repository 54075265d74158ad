package webpush_test

import (
	"crypto/ecdsa"
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/plexpush/plex/vendorpush/internal/h2test"
	"github.com/plexpush/plex/vendorpush/webpush"
	"github.com/plexpush/plex/vendorpush/webpush/webpushtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const subject = "mailto:ops@example.com"

// sleeps records the backoff waits instead of taking them.
type sleeps = h2test.Sleeps

// setup starts a fake push service and a Client that trusts it, with a
// fixed clock and recorded backoff (jitter 0: each wait is half the
// computed backoff).
func setup(t *testing.T) (*webpush.Client, *webpushtest.Service, *ecdsa.PrivateKey, *h2test.Clock, *sleeps) {
	t.Helper()
	svc := webpushtest.New()
	clk := h2test.NewClock()
	svc.Subject, svc.Now = subject, clk.Now
	t.Cleanup(svc.Close)
	key, err := webpush.GenerateKey()
	require.NoError(t, err)
	c, err := webpush.New(webpush.Config{
		Key: key, Subject: subject, HTTPClient: svc.Client(), Now: clk.Now,
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second,
	})
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	sl := &sleeps{}
	webpush.SetRetryHooks(c, sl.Sleep, func() float64 { return 0 })
	return c, svc, key, clk, sl
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
