package webpush_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/vendorpush"
	"github.com/plexpush/plex/vendorpush/webpush"
	"github.com/plexpush/plex/vendorpush/webpush/webpushtest"
)

func ptr[T any](v T) *T { return &v }

// TestSendDecrypts sends notifications to the fake push service, which
// verifies the VAPID token with the k= key and decrypts the body with the
// subscription's private key; the plaintext must be the notification.
func TestSendDecrypts(t *testing.T) {
	tests := []struct {
		name    string
		n       vendorpush.Notification
		headers map[string]string
		want    string // the decrypted JSON
	}{
		{
			name: "visible with everything",
			n: vendorpush.Notification{
				Title: "Alice", Body: "hi <3 & bye", Badge: ptr(3), Collapse: "chat-42",
				Data: map[string]string{"uri": "/chat", "body": `{"k":1}`, "seq": "7"}, TTL: 90 * time.Minute,
			},
			headers: map[string]string{"Ttl": "5400", "Urgency": "high", "Topic": "chat-42"},
			want:    `{"title":"Alice","body":"hi <3 & bye","tag":"chat-42","badge":3,"data":{"uri":"/chat","body":"{\"k\":1}","seq":"7"}}`,
		},
		{
			name:    "background, default TTL",
			n:       vendorpush.Notification{Data: map[string]string{"uri": "/sync"}},
			headers: map[string]string{"Ttl": "2419200", "Urgency": "normal"},
			want:    `{"data":{"uri":"/sync"}}`,
		},
		{
			name:    "now or never, normal, a collapse key that is not a topic",
			n:       vendorpush.Notification{Body: "later", Priority: vendorpush.PriorityNormal, TTL: -1, Collapse: "room:lobby/typing"},
			headers: map[string]string{"Ttl": "0", "Urgency": "normal", "Topic": webpush.Topic("room:lobby/typing")},
			want:    `{"body":"later","tag":"room:lobby/typing"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, svc, key, clk, _ := setup(t)
			n := tt.n
			n.Token = svc.Subscribe()
			require.NoError(t, c.Send(t.Context(), n))

			got := svc.Received()
			require.Len(t, got, 1, "requests")
			r := got[0]
			require.NoError(t, r.Err, "the push service refused the request")
			require.JSONEq(t, tt.want, string(r.Plaintext), "decrypted message")
			require.Equal(t, webpush.PublicKey(key), r.Key, "k= is the VAPID public key")
			require.Equal(t, c.PublicKey(), r.Key)
			require.Equal(t, svc.URL, r.Claims["aud"], "aud is the endpoint's origin")
			require.Equal(t, subject, r.Claims["sub"])
			require.Equal(t, float64(clk.Now().Add(12*time.Hour).Unix()), r.Claims["exp"], "exp: 12 hours ahead")
			require.Equal(t, "aes128gcm", r.Header.Get("Content-Encoding"))
			require.Equal(t, "application/octet-stream", r.Header.Get("Content-Type"))
			for k, v := range tt.headers {
				require.Equal(t, v, r.Header.Get(k), "header %s", k)
			}
			if _, ok := tt.headers["Topic"]; !ok {
				require.Empty(t, r.Header.Values("Topic"), "no Topic without a collapse key")
			}
			require.LessOrEqual(t, len(webpush.Topic(n.Collapse)), 32)
		})
	}
}

func TestSendRetries429WithRetryAfter(t *testing.T) {
	c, svc, _, _, sl := setup(t)
	svc.Script(
		webpushtest.Reply{Status: 429, Header: map[string]string{"Retry-After": "3"}},
		webpushtest.Reply{Status: 503},
		webpushtest.Reply{Status: 201},
	)
	require.NoError(t, c.Send(t.Context(), vendorpush.Notification{Token: svc.Subscribe(), Body: "again"}))
	require.Len(t, svc.Received(), 3, "429, 503, then accepted")
	// jitter 0: half the backoff (100ms·2^(n-1)), never less than Retry-After
	require.Equal(t, []time.Duration{3 * time.Second, 100 * time.Millisecond}, sl.Waits())
}

func TestSendGivesUpAfterMaxAttempts(t *testing.T) {
	c, svc, _, _, sl := setup(t)
	svc.Script(webpushtest.Reply{Status: 500})
	err := c.Send(t.Context(), vendorpush.Notification{Token: svc.Subscribe(), Body: "x"})
	var we *webpush.Error
	require.ErrorAs(t, err, &we)
	require.Equal(t, 500, we.Status)
	require.Contains(t, err.Error(), "3 attempts")
	require.Len(t, sl.Waits(), 2)
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		status int
		is     error // nil: none of the sentinels
	}{
		{404, vendorpush.ErrInvalidToken},
		{410, vendorpush.ErrInvalidToken},
		{413, vendorpush.ErrBadNotification},
		{401, vendorpush.ErrAuth},
		{403, vendorpush.ErrAuth},
		{400, nil},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			c, svc, _, _, sl := setup(t)
			svc.Script(webpushtest.Reply{Status: tt.status})
			err := c.Send(t.Context(), vendorpush.Notification{Token: svc.Subscribe(), Body: "x"})
			var we *webpush.Error
			require.ErrorAs(t, err, &we)
			require.Equal(t, tt.status, we.Status)
			for _, s := range []error{vendorpush.ErrInvalidToken, vendorpush.ErrBadNotification, vendorpush.ErrAuth} {
				require.Equal(t, s == tt.is, errors.Is(err, s), "errors.Is(%v, %v)", err, s)
			}
			require.Len(t, svc.Received(), 1, "a 4xx is not retried")
			require.Empty(t, sl.Waits())
		})
	}
}

func TestSendBadTokenWithoutRequest(t *testing.T) {
	c, svc, _, _, _ := setup(t)
	for _, tok := range []string{"", "fcm-token", `{"endpoint":"http://x/y","keys":{}}`} {
		err := c.Send(t.Context(), vendorpush.Notification{Token: tok, Body: "x"})
		require.ErrorIs(t, err, vendorpush.ErrInvalidToken, "token %q", tok)
		require.ErrorIs(t, err, webpush.ErrBadSubscription, "token %q", tok)
	}
	require.Empty(t, svc.Received())
}

func TestSendTooLarge(t *testing.T) {
	c, svc, _, _, _ := setup(t)
	// A body that does not fit is left out, as with the other vendors.
	n := vendorpush.Notification{Token: svc.Subscribe(), Title: "t",
		Data: map[string]string{"uri": "/u", "body": strings.Repeat("b", webpush.MaxPlaintext)}}
	require.NoError(t, c.Send(t.Context(), n))
	got := svc.Received()
	require.Len(t, got, 1)
	require.NoError(t, got[0].Err)
	require.JSONEq(t, `{"title":"t","data":{"uri":"/u","body_omitted":"1"}}`, string(got[0].Plaintext))
	require.Equal(t, strings.Repeat("b", webpush.MaxPlaintext), n.Data["body"], "the caller's data is untouched")

	// A title that does not fit cannot be sent at all.
	err := c.Send(t.Context(), vendorpush.Notification{Token: svc.Subscribe(), Title: strings.Repeat("t", webpush.MaxPlaintext)})
	require.ErrorIs(t, err, vendorpush.ErrBadNotification)
	require.Len(t, svc.Received(), 1, "no request for a message over the limit")
}

// TestPrivateAddressRefused: the default client refuses endpoints on
// loopback (a user could otherwise aim the node at its own network).
func TestPrivateAddressRefused(t *testing.T) {
	svc := webpushtest.New()
	defer svc.Close()
	key, err := webpush.GenerateKey()
	require.NoError(t, err)
	c, err := webpush.New(webpush.Config{Key: key, Subject: subject})
	require.NoError(t, err)
	defer c.CloseIdleConnections()
	err = c.Send(t.Context(), vendorpush.Notification{Token: svc.Subscribe(), Body: "x"})
	require.ErrorContains(t, err, "loopback, private or link-local")
	require.NotContains(t, err.Error(), "/push/sub-", "the endpoint's path is not quoted")
	require.NotContains(t, err.Error(), "attempts", "not retried")
	require.Empty(t, svc.Received())
}

func TestNewRefusesBadConfig(t *testing.T) {
	key, err := webpush.GenerateKey()
	require.NoError(t, err)
	for name, cfg := range map[string]webpush.Config{
		"no key":          {Subject: subject},
		"no subject":      {Key: key},
		"subject not URI": {Key: key, Subject: "ops@example.com"},
		"http subject":    {Key: key, Subject: "http://example.com"},
		"negative":        {Key: key, Subject: subject, MaxAttempts: -1},
	} {
		_, err := webpush.New(cfg)
		require.ErrorIs(t, err, vendorpush.ErrBadConfig, name)
	}
	_, err = webpush.New(webpush.Config{Key: key, Subject: "https://example.com/contact"})
	require.NoError(t, err)
}

func TestKeyRoundTrip(t *testing.T) {
	key, err := webpush.GenerateKey()
	require.NoError(t, err)
	pemKey, err := webpush.MarshalKey(key)
	require.NoError(t, err)
	back, err := webpush.ParseKey(pemKey)
	require.NoError(t, err)
	require.True(t, key.Equal(back))
	pub := webpush.PublicKey(key)
	require.Len(t, b64(t, pub), 65, "uncompressed point")

	// The form other libraries print: the scalar in base64url.
	raw, err := key.Bytes()
	require.NoError(t, err)
	back, err = webpush.ParseKey([]byte(b64url(raw) + "\n"))
	require.NoError(t, err)
	require.Equal(t, pub, webpush.PublicKey(back))

	for _, bad := range []string{"", "not a key", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"} {
		_, err := webpush.ParseKey([]byte(bad))
		require.ErrorIs(t, err, vendorpush.ErrBadConfig)
	}
}

func TestPayloadIsTheMessageJSON(t *testing.T) {
	b, err := webpush.Payload(&vendorpush.Notification{Title: "T", Body: "B", Sound: "default"})
	require.NoError(t, err)
	var m webpush.Message
	require.NoError(t, json.Unmarshal(b, &m))
	require.Equal(t, webpush.Message{Title: "T", Body: "B", Sound: "default"}, m)
}
