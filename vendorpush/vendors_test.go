package vendorpush_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/vendorpush"
	"github.com/plexpush/plex/vendorpush/apns"
	"github.com/plexpush/plex/vendorpush/fcm"
	"github.com/plexpush/plex/vendorpush/internal/h2test"
)

const (
	goodAPNs = "aaaaaaaa0000000000000000000000000000000000000000000000000000aaaa"
	goneAPNs = "bbbbbbbb0000000000000000000000000000000000000000000000000000bbbb"
	goodFCM  = "good-fcm:APA91bGoodGoodGoodGoodGoodGoodGoodGoodGoodGood"
	goneFCM  = "gone-fcm:APA91bGoneGoneGoneGoneGoneGoneGoneGoneGoneGone"
	badFCM   = "bad--fcm:APA91bBadBadBadBadBadBadBadBadBadBadBadBadBad"
)

// TestInvalidTokensRemoved runs the Dispatcher with the real APNs and FCM
// senders against local HTTP/2 vendors that refuse some tokens.
func TestInvalidTokensRemoved(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	apnsSrv, apnsHC := h2test.Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.URL.Path, "/3/device/")
		mu.Lock()
		seen[tok]++
		mu.Unlock()
		if tok == goneAPNs {
			w.WriteHeader(http.StatusGone)
			_, _ = io.WriteString(w, `{"reason":"Unregistered","timestamp":1760000000000}`)
		}
	}))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"access_token":"ya29.test","expires_in":3599,"token_type":"Bearer"}`)
	})
	mux.HandleFunc("POST /v1/projects/plex-test/messages:send", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Message struct {
				Token string `json:"token"`
			} `json:"message"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		seen[req.Message.Token]++
		mu.Unlock()
		switch req.Message.Token {
		case goneFCM:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`)
		case badFCM:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":{"code":400,"message":"The registration token is not a valid FCM registration token","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"},{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token","description":"The registration token is not a valid FCM registration token"}]}]}}`)
		default:
			_, _ = io.WriteString(w, `{"name":"projects/plex-test/messages/1"}`)
		}
	})
	fcmSrv, fcmHC := h2test.Server(t, mux)

	ap, err := apns.New(apns.Config{AuthKey: p8(t), KeyID: "ABC123DEFG", TeamID: "TEAM123456", Topic: "com.example.chat",
		BaseURL: apnsSrv.URL, HTTPClient: apnsHC})
	require.NoError(t, err)
	defer ap.CloseIdleConnections()
	fc, err := fcm.New(fcm.Config{ServiceAccount: serviceAccountJSON(t, fcmSrv.URL+"/token"), BaseURL: fcmSrv.URL, HTTPClient: fcmHC})
	require.NoError(t, err)
	defer fc.CloseIdleConnections()

	reg := vendorpush.NewMemoryRegistry(0)
	for _, d := range []vendorpush.Device{
		{Platform: vendorpush.APNs, Token: goodAPNs}, {Platform: vendorpush.APNs, Token: goneAPNs},
		{Platform: vendorpush.FCM, Token: goodFCM}, {Platform: vendorpush.FCM, Token: goneFCM}, {Platform: vendorpush.FCM, Token: badFCM},
	} {
		require.NoError(t, reg.Add("alice", d))
	}
	log, logs := newLogger()
	d := start(t, reg, map[vendorpush.Platform]vendorpush.Sender{vendorpush.APNs: ap, vendorpush.FCM: fc}, vendorpush.Config{Logger: log})

	d.Hook("alice", &pack.Message{URI: "/chat", Body: []byte("hi"), Meta: map[string]string{"alert": "hi"}}, true)
	require.NoError(t, d.Shutdown(t.Context()))

	devs, err := reg.Devices(t.Context(), "alice")
	require.NoError(t, err)
	require.ElementsMatch(t, []vendorpush.Device{{Platform: vendorpush.APNs, Token: goodAPNs}, {Platform: vendorpush.FCM, Token: goodFCM}}, devs)
	require.Equal(t, vendorpush.Stats{Queued: 1, Sent: 2, Failed: 3, Removed: 3}, d.Stats())
	require.Equal(t, map[string]int{goodAPNs: 1, goneAPNs: 1, goodFCM: 1, goneFCM: 1, badFCM: 1}, seen, "one request per device, no retry")
	out := logs.String()
	for _, tok := range []string{goodAPNs, goneAPNs, goodFCM, goneFCM, badFCM} {
		require.NotContains(t, out, tok[6:], "a device token was logged beyond its Redact prefix")
	}
	require.NotContains(t, out, "ya29.test", "the access token was logged")
	require.Equal(t, 3, strings.Count(out, "invalid token removed"), out)

	// The next push reaches only the devices that are left.
	clear(seen)
	d2 := start(t, reg, map[vendorpush.Platform]vendorpush.Sender{vendorpush.APNs: ap, vendorpush.FCM: fc}, vendorpush.Config{})
	d2.Hook("alice", &pack.Message{URI: "/chat"}, false)
	require.NoError(t, d2.Shutdown(t.Context()))
	require.Equal(t, map[string]int{goodAPNs: 1, goodFCM: 1}, seen)
}

func p8(t testing.TB) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func serviceAccountJSON(t testing.TB, tokenURI string) []byte {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	b, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "plex-test", "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "push@plex-test.iam.gserviceaccount.com", "token_uri": tokenURI,
	})
	require.NoError(t, err)
	return b
}
