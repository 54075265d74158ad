package webpush_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/vendorpush/webpush"
)

const (
	goodP256DH = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
	goodAuth   = "BTBZMqHH6r4Tts7J_aSIgg"
)

func sub(endpoint, p256dh, auth string) string {
	return `{"endpoint":"` + endpoint + `","expirationTime":null,"keys":{"p256dh":"` + p256dh + `","auth":"` + auth + `"}}`
}

func TestParseSubscription(t *testing.T) {
	good := sub("https://push.example.net/wpush/v2/abc", goodP256DH, goodAuth)
	s, err := webpush.ParseSubscription(good)
	require.NoError(t, err)
	require.Equal(t, "https://push.example.net/wpush/v2/abc", s.Endpoint)
	require.Len(t, s.P256DH, 65)
	require.Len(t, s.Auth, 16)
	canonical := `{"endpoint":"https://push.example.net/wpush/v2/abc","keys":{"p256dh":"` + goodP256DH + `","auth":"` + goodAuth + `"}}`
	require.Equal(t, canonical, s.Token(), "canonical form: no expirationTime, fixed order")

	// Padded standard base64 and another member order are the same device.
	stdP := strings.NewReplacer("-", "+", "_", "/").Replace(goodP256DH) + "="
	other := `{"keys":{"auth":"` + goodAuth + `==","p256dh":"` + stdP + `"},"endpoint":"https://push.example.net/wpush/v2/abc"}`
	tok, err := webpush.CanonicalToken(other)
	require.NoError(t, err)
	require.Equal(t, canonical, tok)

	// A point that is not on the curve: the RFC's key with its last byte changed.
	offCurve := goodP256DH[:len(goodP256DH)-2] + "AA"
	tests := []struct {
		name, token, want string
	}{
		{"not JSON", "fcm-registration-token", "not the JSON of a PushSubscription"},
		{"no endpoint", sub("", goodP256DH, goodAuth), "endpoint missing"},
		{"http endpoint", sub("http://push.example.net/x", goodP256DH, goodAuth), `scheme "http", want https`},
		{"relative endpoint", sub("/push/x", goodP256DH, goodAuth), "not an absolute URL"},
		{"no host", sub("https:///x", goodP256DH, goodAuth), "no host"},
		{"user info", sub("https://u:p@push.example.net/x", goodP256DH, goodAuth), "user info"},
		{"long endpoint", sub("https://push.example.net/"+strings.Repeat("a", webpush.MaxEndpoint), goodP256DH, goodAuth), "endpoint of"},
		{"no keys", `{"endpoint":"https://push.example.net/x"}`, "keys.p256dh must be"},
		{"short p256dh", sub("https://push.example.net/x", goodP256DH[:44], goodAuth), "got 33 bytes"},
		{"p256dh off the curve", sub("https://push.example.net/x", offCurve, goodAuth), "not a point on P-256"},
		{"p256dh not base64", sub("https://push.example.net/x", "!!!", goodAuth), "keys.p256dh must be"},
		{"short auth", sub("https://push.example.net/x", goodP256DH, "BTBZMqHH6r4"), "keys.auth must be 16 bytes"},
		{"too large", sub("https://push.example.net/x", goodP256DH, goodAuth) + strings.Repeat(" ", webpush.MaxSubscription), "at most 4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := webpush.ParseSubscription(tt.token)
			require.ErrorIs(t, err, webpush.ErrBadSubscription)
			require.ErrorContains(t, err, tt.want)
			require.NotContains(t, err.Error(), "push.example.net", "the endpoint is not quoted")
		})
	}
}

func TestRedactEndpoint(t *testing.T) {
	require.Equal(t, "https://push.example.net/…(38)", webpush.RedactEndpoint("https://push.example.net/wpush/v2/abcd"))
	require.Equal(t, "…(3)", webpush.RedactEndpoint("%zz"))
}

func TestTopic(t *testing.T) {
	require.Equal(t, "chat-42_A", webpush.Topic("chat-42_A"))
	long := webpush.Topic(strings.Repeat("a", 33))
	require.Len(t, long, 32)
	require.Equal(t, long, webpush.Topic(strings.Repeat("a", 33)), "stable")
	require.NotEqual(t, long, webpush.Topic("room:lobby"))
	require.Len(t, webpush.Topic("room:lobby"), 32)
}
