package fcm_test

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/vendorpush"
	"github.com/plexpush/plex/vendorpush/fcm"
)

func ptr[T any](v T) *T { return &v }

// headers flattens h, requiring one value per header.
func headers(t *testing.T, h http.Header) map[string]string {
	t.Helper()
	m := map[string]string{}
	for k, vs := range h {
		require.Len(t, vs, 1, "header %s has %d values", k, len(vs))
		m[k] = vs[0]
	}
	return m
}

// checkTokenRequest checks one request to the token endpoint exactly,
// including the assertion's header, claims and RS256 signature.
func checkTokenRequest(t *testing.T, r request, tokenURL string, iat time.Time) {
	t.Helper()
	require.Equal(t, 2, r.Proto, "HTTP major version")
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/token", r.Path)
	require.Equal(t, map[string]string{
		"Content-Type":    "application/x-www-form-urlencoded",
		"Accept":          "application/json",
		"Accept-Encoding": "gzip",
		"User-Agent":      "Go-http-client/2.0",
		"Content-Length":  strconv.Itoa(len(r.Body)),
	}, headers(t, r.Header), "token request headers")
	form, err := url.ParseQuery(string(r.Body))
	require.NoError(t, err)
	require.Len(t, form, 2, "form fields: %v", form)
	require.Equal(t, []string{"urn:ietf:params:oauth:grant-type:jwt-bearer"}, form["grant_type"])
	require.Len(t, form["assertion"], 1)
	a := form["assertion"][0]
	parts := strings.Split(a, ".")
	require.Len(t, parts, 3)
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	require.JSONEq(t, `{"alg":"RS256","kid":"`+keyID+`","typ":"JWT"}`, string(hdr), "assertion header")
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	require.JSONEq(t, `{"iss":"`+email+`","scope":"https://www.googleapis.com/auth/firebase.messaging","aud":"`+tokenURL+`",
		"iat":`+strconv.FormatInt(iat.Unix(), 10)+`,"exp":`+strconv.FormatInt(iat.Add(time.Hour).Unix(), 10)+`}`,
		string(claims), "assertion claims")
	_, err = jwt.Parse(a, func(*jwt.Token) (any, error) { return &testKey().PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return iat }))
	require.NoError(t, err, "assertion signature does not verify with the test key")
}

// checkSendRequest checks one request to FCM exactly.
func checkSendRequest(t *testing.T, r request, accessToken, payload string) {
	t.Helper()
	require.Equal(t, 2, r.Proto, "HTTP major version")
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, sendPath, r.Path)
	require.Equal(t, map[string]string{
		"Authorization":   "Bearer " + accessToken,
		"Content-Type":    "application/json",
		"Accept-Encoding": "gzip",
		"User-Agent":      "Go-http-client/2.0",
		"Content-Length":  strconv.Itoa(len(r.Body)),
	}, headers(t, r.Header), "send request headers")
	require.JSONEq(t, payload, string(r.Body), "message")
}

func TestSendExactRequest(t *testing.T) {
	tests := []struct {
		name    string
		n       vendorpush.Notification
		payload string
	}{
		{
			name: "alert",
			n:    vendorpush.Notification{Title: "Alice", Body: "hi <3", Data: map[string]string{"uri": "/chat", "seq": "7"}},
			payload: `{"message":{"token":"` + devToken + `","notification":{"title":"Alice","body":"hi <3"},
				"data":{"uri":"/chat","seq":"7"},"android":{"priority":"HIGH"}}}`,
		},
		{
			name: "alert with every field",
			n: vendorpush.Notification{Title: "T", Body: "B", Sound: "default", Badge: ptr(2), Collapse: "c1",
				ThreadID: "conv", Priority: vendorpush.PriorityNormal, TTL: 90 * time.Minute},
			payload: `{"message":{"token":"` + devToken + `","notification":{"title":"T","body":"B"},
				"android":{"priority":"NORMAL","ttl":"5400s","collapse_key":"c1","notification":{"sound":"default","notification_count":2}},
				"apns":{"headers":{"apns-priority":"5","apns-collapse-id":"c1","apns-expiration":"1760005400"},
					"payload":{"aps":{"badge":2,"sound":"default","thread-id":"conv"}}}}}`,
		},
		{
			name: "background",
			n:    vendorpush.Notification{Data: map[string]string{"uri": "/sync"}},
			payload: `{"message":{"token":"` + devToken + `","data":{"uri":"/sync"},"android":{"priority":"NORMAL"},
				"apns":{"headers":{"apns-push-type":"background","apns-priority":"5"},"payload":{"aps":{"content-available":1}}}}}`,
		},
		{
			name: "background at high priority, now or never",
			n:    vendorpush.Notification{Priority: vendorpush.PriorityHigh, TTL: -1},
			payload: `{"message":{"token":"` + devToken + `","android":{"priority":"HIGH","ttl":"0s"},
				"apns":{"headers":{"apns-push-type":"background","apns-priority":"5","apns-expiration":"0"},"payload":{"aps":{"content-available":1}}}}}`,
		},
		{
			name: "TTL capped at four weeks, fractions kept",
			n:    vendorpush.Notification{Body: "b", TTL: 1500 * time.Millisecond},
			payload: `{"message":{"token":"` + devToken + `","notification":{"body":"b"},"android":{"priority":"HIGH","ttl":"1.5s"},
				"apns":{"headers":{"apns-expiration":"1760000001"}}}}`,
		},
		{
			name: "badge only: no notification member, priority said",
			n:    vendorpush.Notification{Badge: ptr(0)},
			payload: `{"message":{"token":"` + devToken + `","android":{"priority":"HIGH","notification":{"notification_count":0}},
				"apns":{"headers":{"apns-priority":"10"},"payload":{"aps":{"badge":0}}}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f, clk, _ := setup(t, nil)
			n := tt.n
			n.Token = devToken
			require.NoError(t, c.Send(t.Context(), n))
			toks := f.token.requests()
			require.Len(t, toks, 1, "token requests")
			checkTokenRequest(t, toks[0], f.url+"/token", clk.Now())
			sends := f.send.requests()
			require.Len(t, sends, 1, "send requests")
			checkSendRequest(t, sends[0], "tok-1", tt.payload)
		})
	}
	t.Run("TTL over four weeks", func(t *testing.T) {
		body, err := fcm.Body(&vendorpush.Notification{Token: "x", Body: "b", TTL: 365 * 24 * time.Hour}, time.Unix(0, 0))
		require.NoError(t, err)
		require.Contains(t, string(body), `"ttl":"2419200s"`)
		require.Contains(t, string(body), `"apns-expiration":"2419200"`)
	})
}

func TestDefaultURLs(t *testing.T) {
	c, err := fcm.New(fcm.Config{ServiceAccount: serviceAccount(t, "https://oauth2.googleapis.com/token")})
	require.NoError(t, err)
	send, tok := fcm.URLs(c)
	require.Equal(t, "https://fcm.googleapis.com/v1/projects/plex-test/messages:send", send)
	require.Equal(t, "https://oauth2.googleapis.com/token", tok)

	c, err = fcm.New(fcm.Config{ServiceAccount: serviceAccount(t, ""), ProjectID: "other:proj/x", TokenURL: "http://127.0.0.1:1/t"})
	require.NoError(t, err)
	send, tok = fcm.URLs(c)
	require.Equal(t, "https://fcm.googleapis.com/v1/projects/other:proj%2Fx/messages:send", send, "project id escaped")
	require.Equal(t, "http://127.0.0.1:1/t", tok)

	c, err = fcm.New(fcm.Config{ServiceAccount: serviceAccount(t, "")})
	require.NoError(t, err)
	_, tok = fcm.URLs(c)
	require.Equal(t, fcm.DefaultTokenURL, tok, "no token_uri in the key")
}

func TestAccessTokenCache(t *testing.T) {
	c, f, clk, _ := setup(t, nil)
	send := func() {
		t.Helper()
		require.NoError(t, c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"}))
	}
	auth := func(i int) string { return f.send.requests()[i].Header.Get("Authorization") }

	send()
	send()
	require.Len(t, f.token.requests(), 1, "token fetched again while valid")
	require.Equal(t, "Bearer tok-1", auth(1))

	clk.Add(54*time.Minute + 59*time.Second) // just before expiry − 5 min
	send()
	require.Len(t, f.token.requests(), 1)
	require.Equal(t, "Bearer tok-1", auth(2))

	clk.Add(time.Second) // 55 minutes: renew
	send()
	toks := f.token.requests()
	require.Len(t, toks, 2, "token not renewed 5 minutes before expiry")
	checkTokenRequest(t, toks[1], f.url+"/token", clk.Now())
	require.Equal(t, "Bearer tok-2", auth(3))
}

func TestShortLivedAccessToken(t *testing.T) {
	c, f, clk, _ := setup(t, nil)
	f.token.gen = nil
	f.token.setScript(tokenReply("short", 120))
	require.NoError(t, c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"}))
	clk.Add(59 * time.Second)
	require.NoError(t, c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"}))
	require.Len(t, f.token.requests(), 1)
	clk.Add(time.Second) // half of 120 s
	require.NoError(t, c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"}))
	require.Len(t, f.token.requests(), 2, "a 2-minute token is renewed after half its life")
}

func TestConcurrentSendsShareOneFetch(t *testing.T) {
	c, f, _, _ := setup(t, nil)
	release := make(chan struct{})
	f.token.setBlock(release)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() { errs <- c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"}) })
	}
	require.Eventually(t, func() bool { return len(f.token.requests()) == 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond) // let the other nine queue behind the fetch
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, f.token.requests(), 1, "concurrent Sends fetched more than one token")
	require.Len(t, f.send.requests(), 10)
}

func TestUnauthorizedRenewsTokenOnce(t *testing.T) {
	unauth := reply{Status: 401, Body: `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`}

	c, f, _, sl := setup(t, nil)
	f.send.setScript(unauth, okReply)
	require.NoError(t, c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"}))
	sends := f.send.requests()
	require.Len(t, sends, 2)
	require.Equal(t, "Bearer tok-1", sends[0].Header.Get("Authorization"))
	require.Equal(t, "Bearer tok-2", sends[1].Header.Get("Authorization"))
	require.Len(t, sl.Waits(), 1)

	// 401 again: no second renewal, ErrAuth.
	c, f, _, _ = setup(t, func(c *fcm.Config) { c.MaxAttempts = 5 })
	f.send.setScript(unauth)
	err := c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"})
	require.ErrorIs(t, err, vendorpush.ErrAuth)
	require.Len(t, f.send.requests(), 2)
	require.Len(t, f.token.requests(), 2)
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		script   []reply
		attempts int
		waits    []time.Duration
		ok       bool
	}{
		{"503 then 200", []reply{{Status: 503, Body: `{"error":{"code":503,"status":"UNAVAILABLE"}}`}, okReply}, 2, []time.Duration{50 * time.Millisecond}, true},
		{"429 honours Retry-After", []reply{{Status: 429, Header: map[string]string{"Retry-After": "3"}, Body: quota}, okReply}, 2, []time.Duration{3 * time.Second}, true},
		{"Retry-After 60 gives up", []reply{{Status: 429, Header: map[string]string{"Retry-After": "60"}, Body: quota}}, 1, nil, false},
		{"500 three times", []reply{{Status: 500, Body: `{"error":{"code":500,"status":"INTERNAL"}}`}}, 3, []time.Duration{50 * time.Millisecond, 100 * time.Millisecond}, false},
		{"400 is not retried", []reply{{Status: 400, Body: `{"error":{"code":400,"status":"INVALID_ARGUMENT","message":"bad ttl"}}`}}, 1, nil, false},
		{"404 is not retried", []reply{{Status: 404, Body: unregistered}}, 1, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f, _, sl := setup(t, nil)
			f.send.setScript(tt.script...)
			err := c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"})
			require.Len(t, f.send.requests(), tt.attempts, "attempts")
			require.Equal(t, tt.waits, sl.Waits(), "backoff waits")
			require.Len(t, f.token.requests(), 1, "token refetched by a retry")
			if tt.ok {
				require.NoError(t, err)
				return
			}
			var fe *fcm.Error
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tt.script[len(tt.script)-1].Status, fe.HTTPStatus)
		})
	}
}

const (
	quota        = `{"error":{"code":429,"message":"Quota exceeded.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"QUOTA_EXCEEDED"}]}}`
	unregistered = `{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`
	badToken     = `{"error":{"code":400,"message":"The registration token is not a valid FCM registration token","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"},{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token","description":"The registration token is not a valid FCM registration token"}]}]}}`
	badPayload   = `{"error":{"code":400,"message":"Invalid value at 'message.android.ttl'","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.android.ttl","description":"Invalid value"}]}]}}`
	mismatch     = `{"error":{"code":403,"message":"SenderId mismatch","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"SENDER_ID_MISMATCH"}]}}`
	denied       = `{"error":{"code":403,"message":"Permission 'cloudmessaging.messages.create' denied","status":"PERMISSION_DENIED"}}`
	thirdParty   = `{"error":{"code":401,"message":"Auth error from APNS or Web Push Service","status":"UNAUTHENTICATED","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"THIRD_PARTY_AUTH_ERROR"}]}}`
)

func TestErrorReplies(t *testing.T) {
	tests := []struct {
		name     string
		rep      reply
		invalid  bool
		auth     bool
		attempts int
		text     string
	}{
		{"unregistered", reply{Status: 404, Body: unregistered}, true, false, 1, "fcm: 404 NOT_FOUND UNREGISTERED: Requested entity was not found."},
		{"malformed token", reply{Status: 400, Body: badToken}, true, false, 1, "fcm: 400 INVALID_ARGUMENT: The registration token is not a valid FCM registration token"},
		{"bad payload is not the token's fault", reply{Status: 400, Body: badPayload}, false, false, 1, ""},
		{"sender id mismatch may be ours", reply{Status: 403, Body: mismatch}, false, false, 1, ""},
		{"permission denied", reply{Status: 403, Body: denied}, false, true, 1, ""},
		{"APNs credentials in the console", reply{Status: 401, Body: thirdParty}, false, true, 1, ""},
		{"not JSON", reply{Status: 404, Body: "<html>"}, false, false, 1, "fcm: 404"},
		{"token quoted in the message", reply{Status: 400, Body: `{"error":{"code":400,"status":"INVALID_ARGUMENT","message":"bad token ` + devToken + `"}}`}, false, false, 1, "fcm: 400 INVALID_ARGUMENT: bad token dQw4w9…(107)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f, _, _ := setup(t, nil)
			f.send.setScript(tt.rep)
			err := c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"})
			require.Error(t, err)
			require.Len(t, f.send.requests(), tt.attempts)
			require.Equal(t, tt.invalid, errors.Is(err, vendorpush.ErrInvalidToken), "Is(ErrInvalidToken): %v", err)
			require.Equal(t, tt.auth, errors.Is(err, vendorpush.ErrAuth), "Is(ErrAuth): %v", err)
			require.NotContains(t, err.Error(), devToken[:20])
			if tt.text != "" {
				require.Equal(t, tt.text, err.Error())
			}
		})
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	t.Run("invalid_grant is not retried", func(t *testing.T) {
		c, f, _, sl := setup(t, nil)
		f.token.setScript(reply{Status: 400, Body: `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`})
		err := c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"})
		require.ErrorIs(t, err, vendorpush.ErrAuth)
		require.Equal(t, "fcm: token endpoint: 400 invalid_grant: Invalid JWT Signature.", err.Error())
		require.Len(t, f.token.requests(), 1)
		require.Empty(t, f.send.requests(), "sent without a token")
		require.Empty(t, sl.Waits())
	})
	t.Run("503 is retried with Retry-After", func(t *testing.T) {
		c, f, _, sl := setup(t, nil)
		f.token.setScript(reply{Status: 503, Header: map[string]string{"Retry-After": "1"}}, tokenReply("tok-x", 3600))
		require.NoError(t, c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"}))
		require.Len(t, f.token.requests(), 2)
		require.Equal(t, []time.Duration{time.Second}, sl.Waits())
		require.Equal(t, "Bearer tok-x", f.send.requests()[0].Header.Get("Authorization"))
	})
	t.Run("malformed reply", func(t *testing.T) {
		for _, body := range []string{`{}`, `{"access_token":"a","expires_in":0}`, `{"access_token":"a","expires_in":60,"token_type":"MAC"}`, `nope`} {
			c, f, _, _ := setup(t, nil)
			f.token.setScript(reply{Status: 200, Body: body})
			err := c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"})
			require.ErrorContains(t, err, "malformed reply", body)
			require.Len(t, f.token.requests(), 1, body)
			require.Empty(t, f.send.requests(), body)
		}
	})
}

func TestLocalRefusals(t *testing.T) {
	c, f, _, _ := setup(t, nil)
	tests := []struct {
		n    vendorpush.Notification
		want error
	}{
		{vendorpush.Notification{Body: "x"}, vendorpush.ErrInvalidToken},
		{vendorpush.Notification{Token: "has space", Body: "x"}, vendorpush.ErrInvalidToken},
		{vendorpush.Notification{Token: devToken, Data: map[string]string{"from": "x"}}, vendorpush.ErrBadNotification},
		{vendorpush.Notification{Token: devToken, Data: map[string]string{"google.sent_time": "1"}}, vendorpush.ErrBadNotification},
	}
	for _, tt := range tests {
		require.ErrorIs(t, c.Send(t.Context(), tt.n), tt.want, "%+v", tt.n)
	}
	require.Empty(t, f.token.requests())
	require.Empty(t, f.send.requests())
}

func TestContextCancellation(t *testing.T) {
	t.Run("waiting for another Send's token fetch", func(t *testing.T) {
		c, f, _, _ := setup(t, nil)
		release := make(chan struct{})
		f.token.setBlock(release)
		first := make(chan error, 1)
		go func() { first <- c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"}) }()
		require.Eventually(t, func() bool { return len(f.token.requests()) == 1 }, 5*time.Second, time.Millisecond)
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		require.ErrorIs(t, c.Send(ctx, vendorpush.Notification{Token: devToken, Body: "x"}), context.DeadlineExceeded)
		close(release)
		require.NoError(t, <-first)
	})
	t.Run("during the backoff wait", func(t *testing.T) {
		c, f, _, _ := setup(t, func(c *fcm.Config) { c.MinBackoff, c.MaxBackoff = time.Hour, time.Hour })
		f.send.setScript(reply{Status: 503})
		waiting := make(chan struct{})
		fcm.SetRetryHooks(c, func(ctx context.Context, _ time.Duration) error {
			close(waiting)
			<-ctx.Done()
			return ctx.Err()
		}, nil)
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- c.Send(ctx, vendorpush.Notification{Token: devToken, Body: "x"}) }()
		<-waiting
		cancel()
		err := <-errc
		require.ErrorIs(t, err, context.Canceled)
		var fe *fcm.Error
		require.ErrorAs(t, err, &fe)
		require.Equal(t, 503, fe.HTTPStatus)
	})
	t.Run("during the request", func(t *testing.T) {
		c, f, _, _ := setup(t, nil)
		release := make(chan struct{})
		defer close(release)
		f.send.setBlock(release)
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- c.Send(ctx, vendorpush.Notification{Token: devToken, Body: "x"}) }()
		require.Eventually(t, func() bool { return len(f.send.requests()) == 1 }, 5*time.Second, time.Millisecond)
		cancel()
		require.ErrorIs(t, <-errc, context.Canceled)
		require.Len(t, f.send.requests(), 1)
	})
}

func TestConfigErrors(t *testing.T) {
	good := serviceAccount(t, "https://oauth2.googleapis.com/token")
	edit := func(f func(m map[string]string)) []byte {
		m := map[string]string{}
		require.NoError(t, jsonUnmarshal(good, &m))
		f(m)
		return jsonMarshal(t, m)
	}
	tests := []struct {
		name string
		cfg  fcm.Config
	}{
		{"no key", fcm.Config{}},
		{"not JSON", fcm.Config{ServiceAccount: []byte("-----BEGIN PRIVATE KEY-----")}},
		{"wrong type", fcm.Config{ServiceAccount: edit(func(m map[string]string) { m["type"] = "authorized_user" })}},
		{"no client_email", fcm.Config{ServiceAccount: edit(func(m map[string]string) { delete(m, "client_email") })}},
		{"key not PEM", fcm.Config{ServiceAccount: edit(func(m map[string]string) { m["private_key"] = "MIIEvQIBADANBg" })}},
		{"EC key", fcm.Config{ServiceAccount: edit(func(m map[string]string) { m["private_key"] = ecPEM(t) })}},
		{"no project", fcm.Config{ServiceAccount: edit(func(m map[string]string) { delete(m, "project_id") })}},
		{"base URL with a path", fcm.Config{ServiceAccount: good, BaseURL: "https://fcm.googleapis.com/v1"}},
		{"token URL not http", fcm.Config{ServiceAccount: good, TokenURL: "file:///etc/passwd"}},
		{"negative backoff", fcm.Config{ServiceAccount: good, MinBackoff: -1}},
	}
	for _, tt := range tests {
		_, err := fcm.New(tt.cfg)
		require.ErrorIs(t, err, vendorpush.ErrBadConfig, tt.name)
		require.NotContains(t, err.Error(), "MII", "%s: error quotes the key", tt.name)
	}
}

func TestLogsNeverHoldSecrets(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, f, _, _ := setup(t, func(c *fcm.Config) { c.Logger = logger })
	f.token.gen = nil
	f.token.setScript(tokenReply("ya29.secret-access-token", 3600))
	f.send.setScript(reply{Status: 503}, okReply)
	require.NoError(t, c.Send(t.Context(), vendorpush.Notification{Token: devToken, Body: "x"}))
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	require.Contains(t, out, "retryable reply")
	require.Contains(t, out, "fcm: accepted")
	require.NotContains(t, out, devToken[6:], "device token logged")
	require.NotContains(t, out, "secret-access-token", "access token logged")
	require.NotContains(t, out, "assertion")
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
