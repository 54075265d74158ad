package apns_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/vendorpush"
	"github.com/plexpush/plex/vendorpush/apns"
)

func ptr[T any](v T) *T { return &v }

// checkJWT verifies the provider token: the exact header, the exact claims
// and the ES256 signature against the test's public key.
func checkJWT(t *testing.T, auth string, key *ecdsa.PrivateKey, iat time.Time) string {
	t.Helper()
	tok, ok := strings.CutPrefix(auth, "bearer ")
	require.True(t, ok, "authorization = %q, want bearer <jwt>", auth)
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3, "JWT has %d parts, want 3", len(parts))
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	require.JSONEq(t, `{"alg":"ES256","kid":"`+keyID+`"}`, string(hdr), "JWT header")
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	require.JSONEq(t, `{"iss":"`+teamID+`","iat":`+strconv.FormatInt(iat.Unix(), 10)+`}`, string(claims), "JWT claims")
	_, err = jwt.Parse(tok, func(*jwt.Token) (any, error) { return &key.PublicKey, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuedAt(), jwt.WithTimeFunc(func() time.Time { return iat }))
	require.NoError(t, err, "JWT signature does not verify with the test key")
	return tok
}

func TestSendExactRequest(t *testing.T) {
	tests := []struct {
		name    string
		n       vendorpush.Notification
		headers map[string]string // besides authorization, topic, content-type and Go's own
		payload string
	}{
		{
			name: "alert with everything",
			n: vendorpush.Notification{
				Title: "Alice", Body: "hi <3 & bye", Sound: "default", Badge: ptr(3),
				Data:     map[string]string{"uri": "/chat", "body": `{"k":1}`, "seq": "7"},
				Collapse: "chat-42", ThreadID: "conv-42", TTL: time.Hour,
			},
			headers: map[string]string{
				"Apns-Push-Type":   "alert",
				"Apns-Priority":    "10",
				"Apns-Expiration":  "1760003600",
				"Apns-Collapse-Id": "chat-42",
			},
			payload: `{"aps":{"alert":{"title":"Alice","body":"hi <3 & bye"},"badge":3,"sound":"default","thread-id":"conv-42"},
				"uri":"/chat","body":"{\"k\":1}","seq":"7"}`,
		},
		{
			name:    "background",
			n:       vendorpush.Notification{Data: map[string]string{"uri": "/sync"}},
			headers: map[string]string{"Apns-Push-Type": "background", "Apns-Priority": "5"},
			payload: `{"aps":{"content-available":1},"uri":"/sync"}`,
		},
		{
			name:    "background asked high still goes with 5",
			n:       vendorpush.Notification{Priority: vendorpush.PriorityHigh},
			headers: map[string]string{"Apns-Push-Type": "background", "Apns-Priority": "5"},
			payload: `{"aps":{"content-available":1}}`,
		},
		{
			name:    "alert at normal priority, now or never",
			n:       vendorpush.Notification{Body: "later", Priority: vendorpush.PriorityNormal, TTL: -1},
			headers: map[string]string{"Apns-Push-Type": "alert", "Apns-Priority": "5", "Apns-Expiration": "0"},
			payload: `{"aps":{"alert":{"body":"later"}}}`,
		},
		{
			name:    "badge only clears the badge",
			n:       vendorpush.Notification{Badge: ptr(0)},
			headers: map[string]string{"Apns-Push-Type": "alert", "Apns-Priority": "10"},
			payload: `{"aps":{"badge":0}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeAPNs{}
			c, key, clk, _ := setup(t, f, nil)
			n := tt.n
			n.Token = devToken
			require.NoError(t, c.Send(t.Context(), n))

			reqs := f.requests()
			require.Len(t, reqs, 1, "requests")
			r := reqs[0]
			require.Equal(t, 2, r.Proto, "HTTP major version")
			require.Equal(t, http.MethodPost, r.Method)
			require.Equal(t, "/3/device/"+devToken, r.Path)

			want := map[string]string{
				"Apns-Topic":      topic,
				"Content-Type":    "application/json",
				"Accept-Encoding": "gzip",               // added by net/http
				"User-Agent":      "Go-http-client/2.0", // added by net/http
				"Content-Length":  strconv.Itoa(len(r.Body)),
			}
			for k, v := range tt.headers {
				want[k] = v
			}
			got := map[string]string{}
			for k, vs := range r.Header {
				require.Len(t, vs, 1, "header %s has %d values", k, len(vs))
				got[k] = vs[0]
			}
			checkJWT(t, got["Authorization"], key, clk.Now())
			delete(got, "Authorization")
			require.Equal(t, want, got, "headers")
			require.JSONEq(t, tt.payload, string(r.Body), "payload")
			require.NotContains(t, string(r.Body), `\u003c`, "payload escapes HTML it need not")
		})
	}
}

func TestEndpoints(t *testing.T) {
	_, p8 := newKey(t)
	cfg := apns.Config{AuthKey: p8, KeyID: keyID, TeamID: teamID, Topic: topic}
	c, err := apns.New(cfg)
	require.NoError(t, err)
	require.Equal(t, "https://api.push.apple.com", apns.BaseURL(c))
	cfg.Sandbox = true
	c, err = apns.New(cfg)
	require.NoError(t, err)
	require.Equal(t, "https://api.sandbox.push.apple.com", apns.BaseURL(c))
	cfg.BaseURL = "https://127.0.0.1:2197/"
	c, err = apns.New(cfg)
	require.NoError(t, err)
	require.Equal(t, "https://127.0.0.1:2197", apns.BaseURL(c), "BaseURL wins over Sandbox")
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		script   []reply
		attempts int
		waits    []time.Duration // recorded backoffs (jitter 0: half of 100ms·2^n)
		ok       bool
	}{
		{"503 twice then 200", []reply{{Status: 503}, {Status: 503}, {Status: 200}}, 3, []time.Duration{50 * time.Millisecond, 100 * time.Millisecond}, true},
		{"500 three times gives up", []reply{{Status: 500, Body: `{"reason":"InternalServerError"}`}}, 3, []time.Duration{50 * time.Millisecond, 100 * time.Millisecond}, false},
		{"429 honours Retry-After", []reply{{Status: 429, Header: map[string]string{"Retry-After": "2"}, Body: `{"reason":"TooManyRequests"}`}, {Status: 200}}, 2, []time.Duration{2 * time.Second}, true},
		{"Retry-After over MaxBackoff ends retries", []reply{{Status: 503, Header: map[string]string{"Retry-After": "60"}}}, 1, nil, false},
		{"400 is not retried", []reply{{Status: 400, Body: `{"reason":"BadTopic"}`}}, 1, nil, false},
		{"413 is not retried", []reply{{Status: 413, Body: `{"reason":"PayloadTooLarge"}`}}, 1, nil, false},
		{"403 is not retried", []reply{{Status: 403, Body: `{"reason":"InvalidProviderToken"}`}}, 1, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeAPNs{script: tt.script}
			c, _, _, sl := setup(t, f, nil)
			err := c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"})
			require.Len(t, f.requests(), tt.attempts, "attempts")
			require.Equal(t, tt.waits, sl.Waits(), "backoff waits")
			if tt.ok {
				require.NoError(t, err)
				return
			}
			var ae *apns.Error
			require.ErrorAs(t, err, &ae)
			last := tt.script[len(tt.script)-1]
			require.Equal(t, last.Status, ae.Status)
			require.NotEmpty(t, ae.ID, "apns-id kept")
		})
	}
}

func TestRetryAfterRealWait(t *testing.T) {
	// Retry-After 0 with the real timer: the retry happens, promptly.
	f := &fakeAPNs{script: []reply{{Status: 429, Header: map[string]string{"Retry-After": "0"}}, {Status: 200}}}
	srvC, _, _, _ := setup(t, f, func(c *apns.Config) { c.MinBackoff = time.Millisecond })
	apns.SetRetryHooks(srvC, nil, nil) // real sleep, real jitter
	start := time.Now()
	require.NoError(t, srvC.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"}))
	require.Len(t, f.requests(), 2)
	require.Less(t, time.Since(start), 5*time.Second)
}

func TestErrorReplies(t *testing.T) {
	tests := []struct {
		status  int
		body    string
		invalid bool
		auth    bool
	}{
		{410, `{"reason":"Unregistered","timestamp":1760000000123}`, true, false},
		{410, `{"reason":"ExpiredToken"}`, true, false},
		{400, `{"reason":"BadDeviceToken"}`, true, false},
		{400, `{"reason":"DeviceTokenNotForTopic"}`, false, false}, // may be our topic: never erase tokens for it
		{400, `{"reason":"BadCollapseId"}`, false, false},
		{403, `{"reason":"InvalidProviderToken"}`, false, true},
		{404, `not json`, false, false},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status)+tt.body, func(t *testing.T) {
			f := &fakeAPNs{script: []reply{{Status: tt.status, Body: tt.body}}}
			c, _, _, _ := setup(t, f, nil)
			err := c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"})
			require.Error(t, err)
			require.Equal(t, tt.invalid, errors.Is(err, vendorpush.ErrInvalidToken), "Is(ErrInvalidToken) for %v", err)
			require.Equal(t, tt.auth, errors.Is(err, vendorpush.ErrAuth), "Is(ErrAuth) for %v", err)
			require.NotContains(t, err.Error(), devToken[:12], "error quotes the token")
			var ae *apns.Error
			require.ErrorAs(t, err, &ae)
			if strings.Contains(tt.body, "timestamp") {
				require.Equal(t, time.UnixMilli(1760000000123), ae.Timestamp)
				require.Equal(t, "apns: 410 Unregistered", err.Error())
			}
		})
	}
}

func TestLocalRefusals(t *testing.T) {
	f := &fakeAPNs{}
	c, _, _, _ := setup(t, f, nil)
	ctx := t.Context()
	tests := []struct {
		name string
		n    vendorpush.Notification
		want error
	}{
		{"empty token", vendorpush.Notification{Body: "x"}, vendorpush.ErrInvalidToken},
		{"token with a slash", vendorpush.Notification{Token: "abcd/../../x", Body: "x"}, vendorpush.ErrInvalidToken},
		{"FCM token sent to APNs", vendorpush.Notification{Token: "dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH", Body: "x"}, vendorpush.ErrInvalidToken},
		{"collapse id too long", vendorpush.Notification{Token: devToken, Collapse: strings.Repeat("c", 65)}, vendorpush.ErrBadNotification},
		{"reserved data key", vendorpush.Notification{Token: devToken, Data: map[string]string{"aps": "x"}}, vendorpush.ErrBadNotification},
		{"payload too large", vendorpush.Notification{Token: devToken, Body: strings.Repeat("b", 4100)}, vendorpush.ErrBadNotification},
	}
	for _, tt := range tests {
		err := c.Send(ctx, tt.n)
		require.ErrorIs(t, err, tt.want, tt.name)
	}
	require.Empty(t, f.requests(), "a refused notification made a request")
}

func TestProviderTokenCache(t *testing.T) {
	f := &fakeAPNs{}
	c, key, clk, _ := setup(t, f, nil)
	send := func() {
		t.Helper()
		require.NoError(t, c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"}))
	}
	auth := func(i int) string { return f.requests()[i].Header.Get("Authorization") }

	t0 := clk.Now()
	send()
	first := checkJWT(t, auth(0), key, t0)
	clk.Add(49 * time.Minute)
	send()
	require.Equal(t, "bearer "+first, auth(1), "token re-signed before 50 minutes")
	clk.Add(2 * time.Minute) // 51 minutes
	send()
	second := checkJWT(t, auth(2), key, clk.Now())
	require.NotEqual(t, first, second, "token not refreshed after 50 minutes")
}

func TestExpiredProviderToken(t *testing.T) {
	expired := reply{Status: 403, Body: `{"reason":"ExpiredProviderToken"}`}

	t.Run("young token is kept and the error returned", func(t *testing.T) {
		f := &fakeAPNs{script: []reply{expired}}
		c, _, clk, _ := setup(t, f, nil)
		f.script = []reply{{Status: 200}}
		require.NoError(t, c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"}))
		clk.Add(5 * time.Minute)
		f.mu.Lock()
		f.script = []reply{{Status: 200}, expired}
		f.mu.Unlock()
		err := c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"})
		require.ErrorIs(t, err, vendorpush.ErrAuth)
		reqs := f.requests()
		require.Len(t, reqs, 2, "retried although the token is younger than 20 minutes")
		require.Equal(t, reqs[0].Header.Get("Authorization"), reqs[1].Header.Get("Authorization"))
	})

	t.Run("token of 25 minutes is replaced once", func(t *testing.T) {
		f := &fakeAPNs{}
		c, key, clk, _ := setup(t, f, nil)
		require.NoError(t, c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"}))
		clk.Add(25 * time.Minute)
		f.mu.Lock()
		f.script = []reply{{Status: 200}, expired, {Status: 200}}
		f.mu.Unlock()
		require.NoError(t, c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"}))
		reqs := f.requests()
		require.Len(t, reqs, 3)
		require.Equal(t, reqs[0].Header.Get("Authorization"), reqs[1].Header.Get("Authorization"))
		checkJWT(t, reqs[2].Header.Get("Authorization"), key, clk.Now())
	})

	t.Run("expired twice is not retried twice", func(t *testing.T) {
		f := &fakeAPNs{}
		c, _, clk, _ := setup(t, f, func(c *apns.Config) { c.MaxAttempts = 5 })
		require.NoError(t, c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"}))
		clk.Add(25 * time.Minute)
		f.mu.Lock()
		f.script = []reply{{Status: 200}, expired}
		f.mu.Unlock()
		require.ErrorIs(t, c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"}), vendorpush.ErrAuth)
		require.Len(t, f.requests(), 3, "one retry with a new token, no more")
	})
}

func TestContextCancellation(t *testing.T) {
	t.Run("during the backoff wait", func(t *testing.T) {
		f := &fakeAPNs{script: []reply{{Status: 503}}}
		c, _, _, _ := setup(t, f, func(c *apns.Config) { c.MinBackoff, c.MaxBackoff = time.Hour, time.Hour })
		waiting := make(chan time.Duration, 1)
		apns.SetRetryHooks(c, func(ctx context.Context, d time.Duration) error {
			waiting <- d
			<-ctx.Done() // an hour, unless cancelled
			return ctx.Err()
		}, nil)
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- c.Send(ctx, vendorpush.Notification{Token: devToken, Body: "x"}) }()
		require.GreaterOrEqual(t, <-waiting, 30*time.Minute, "backoff")
		cancel()
		select {
		case err := <-errc:
			require.ErrorIs(t, err, context.Canceled)
			var ae *apns.Error
			require.ErrorAs(t, err, &ae, "the last reply is kept")
			require.Equal(t, 503, ae.Status)
		case <-time.After(5 * time.Second):
			t.Fatal("Send did not return after cancel")
		}
		require.Len(t, f.requests(), 1)
	})

	t.Run("deadline shorter than the backoff", func(t *testing.T) {
		f := &fakeAPNs{script: []reply{{Status: 503}}}
		c, _, _, sl := setup(t, f, func(c *apns.Config) { c.MinBackoff, c.MaxBackoff = time.Hour, time.Hour })
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		err := c.Send(ctx, vendorpush.Notification{Token: devToken, Body: "x"})
		require.Error(t, err)
		require.Empty(t, sl.Waits(), "waited although the deadline comes first")
		require.Len(t, f.requests(), 1)
	})

	t.Run("during the request", func(t *testing.T) {
		f := &fakeAPNs{block: make(chan struct{})}
		defer close(f.block)
		c, _, _, _ := setup(t, f, nil)
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- c.Send(ctx, vendorpush.Notification{Token: devToken, Body: "x"}) }()
		require.Eventually(t, func() bool { return len(f.requests()) == 1 }, 5*time.Second, time.Millisecond)
		cancel()
		err := <-errc
		require.ErrorIs(t, err, context.Canceled)
		require.NotContains(t, err.Error(), devToken[:12], "error quotes the token (URL)")
		require.Len(t, f.requests(), 1, "a cancelled request was retried")
	})
}

func TestNetworkErrorRetriedWithoutToken(t *testing.T) {
	// A server that is gone: every dial fails.
	_, p8 := newKey(t)
	c, err := apns.New(apns.Config{AuthKey: p8, KeyID: keyID, TeamID: teamID, Topic: topic, BaseURL: newClosedURL(t)})
	require.NoError(t, err)
	defer c.CloseIdleConnections()
	sl := &sleeps{}
	apns.SetRetryHooks(c, sl.Sleep, func() float64 { return 0 })
	err = c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"})
	require.Error(t, err)
	require.Len(t, sl.Waits(), 2, "a network error is retried up to MaxAttempts")
	require.NotContains(t, err.Error(), devToken[:12], "error quotes the token: %v", err)
	require.Contains(t, err.Error(), vendorpush.Redact(devToken))
}

func TestConfigErrors(t *testing.T) {
	_, p8 := newKey(t)
	ok := apns.Config{AuthKey: p8, KeyID: keyID, TeamID: teamID, Topic: topic}
	tests := []struct {
		name string
		mod  func(*apns.Config)
	}{
		{"no key", func(c *apns.Config) { c.AuthKey = nil }},
		{"not PEM", func(c *apns.Config) { c.AuthKey = []byte("MIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg") }},
		{"garbage in PEM", func(c *apns.Config) {
			c.AuthKey = []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
		}},
		{"RSA key", func(c *apns.Config) { c.AuthKey = rsaPEM(t) }},
		{"no key id", func(c *apns.Config) { c.KeyID = "" }},
		{"team id with a newline", func(c *apns.Config) { c.TeamID = "TEAM\n123" }},
		{"no topic", func(c *apns.Config) { c.Topic = "" }},
		{"base URL with a path", func(c *apns.Config) { c.BaseURL = "https://example.com/3/device" }},
		{"base URL without scheme", func(c *apns.Config) { c.BaseURL = "example.com" }},
		{"negative attempts", func(c *apns.Config) { c.MaxAttempts = -1 }},
	}
	for _, tt := range tests {
		cfg := ok
		tt.mod(&cfg)
		_, err := apns.New(cfg)
		require.ErrorIs(t, err, vendorpush.ErrBadConfig, tt.name)
		require.NotContains(t, err.Error(), "MIG", "%s: error quotes the key", tt.name)
	}
	_, err := apns.New(ok)
	require.NoError(t, err)
}

func TestLogsNeverHoldSecrets(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := &fakeAPNs{script: []reply{{Status: 503}, {Status: 200}}}
	c, _, _, _ := setup(t, f, func(c *apns.Config) { c.Logger = logger })
	require.NoError(t, c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"}))
	jwt := strings.TrimPrefix(f.requests()[0].Header.Get("Authorization"), "bearer ")
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	require.Contains(t, out, "retryable reply")
	require.Contains(t, out, "apns: accepted")
	require.NotContains(t, out, devToken[6:], "device token logged")
	require.NotContains(t, out, jwt[len(jwt)-20:], "provider token logged")
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
