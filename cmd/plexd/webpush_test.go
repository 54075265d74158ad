package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/vendorpush/webpush"
	"github.com/plexpush/plex/vendorpush/webpush/webpushtest"
)

const webPushSubject = "mailto:ops@example.com"

// getKey returns GET /plex/v1/webpush/key's status and public_key.
func getKey(t *testing.T, p *plexd) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + p.addrs["http"] + webPushKeyPath)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v struct {
		PublicKey string `json:"public_key"`
	}
	if resp.StatusCode == http.StatusOK {
		require.NoError(t, json.Unmarshal(b, &v), "body %s", b)
		require.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
	}
	return resp.StatusCode, v.PublicKey
}

// TestWebPushOffline: a browser's subscription registered through
// /device/register; the user goes offline; one push makes the fake push
// service receive exactly one message, signed with the key the node
// publishes and decryptable with the subscription's key.
func TestWebPushOffline(t *testing.T) {
	svc := webpushtest.New()
	defer svc.Close()
	svc.Subject = webPushSubject
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, svc.CertPEM(), 0o600))
	p := runPlexd(t, "-webpush-subject", webPushSubject, "-webpush-ca", ca, "-webpush-allow-private")

	status, key := getKey(t, p)
	require.Equal(t, http.StatusOK, status)
	raw, err := base64.RawURLEncoding.DecodeString(key)
	require.NoError(t, err)
	require.Len(t, raw, 65, "an uncompressed P-256 point")
	require.Contains(t, p.stdout.String(), "web push key      "+key, "the banner shows the key")

	app := dialApp(t, p.addrs["addr"], "alice")
	reg := func(seq int64, token string) pack.Message {
		body, _ := json.Marshal(map[string]string{"platform": "webpush", "token": token})
		app.send(t, pack.Message{Seq: seq, URI: uriDeviceRegister, Body: body})
		return app.read(t)
	}
	ok := reg(1, svc.Subscribe())
	require.Equal(t, pack.URIReply, ok.URI, "register: %s", ok.Body)
	bad := reg(2, `{"endpoint":"http://push.example.net/x","keys":{"p256dh":"x","auth":"y"}}`)
	require.Equal(t, pack.URIError, bad.URI)
	require.Equal(t, pack.CodeBadRequest, pack.ErrorOf(&bad).Code)
	require.Contains(t, pack.ErrorOf(&bad).Reason, `endpoint scheme "http", want https`)
	bad = reg(3, "not json")
	require.Equal(t, pack.CodeBadRequest, pack.ErrorOf(&bad).Code)
	require.Contains(t, pack.ErrorOf(&bad).Reason, "not the JSON of a PushSubscription")

	app.c.Close()
	require.Eventually(t, func() bool { return !online(t, p, "alice") }, 10*time.Second, 20*time.Millisecond)
	out := p.push(t, `{"uid":"alice","uri":"/chat","body":"hi there","meta":{"title":"Bob","alert":"hi there"}}`)
	require.Equal(t, float64(1), out["offline"], "outcome %v", out)

	require.Eventually(t, func() bool { return len(svc.Received()) > 0 }, 10*time.Second, 20*time.Millisecond)
	time.Sleep(300 * time.Millisecond) // a second message would come now
	got := svc.Received()
	require.Len(t, got, 1, "exactly one message")
	require.NoError(t, got[0].Err)
	require.Equal(t, key, got[0].Key, "signed with the key the node publishes")
	var m webpush.Message
	require.NoError(t, json.Unmarshal(got[0].Plaintext, &m), "plaintext %s", got[0].Plaintext)
	require.Equal(t, "Bob", m.Title)
	require.Equal(t, "hi there", m.Body)
	require.Equal(t, "/chat", m.Data["uri"])
	require.Equal(t, "hi there", m.Data["body"])
}

// online asks GET /plex/v1/online whether uid has a connection.
func online(t *testing.T, p *plexd, uid string) bool {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+p.addrs["http"]+"/plex/v1/online?uid="+uid, nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var v struct {
		Online map[string]bool `json:"online"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	return v.Online[uid]
}

// TestWebPushKeyKept: without -webpush-vapid-key the key is generated in
// the data directory (0600) on the first start and is the same on the
// next; without -webpush-subject the key route is 404.
func TestWebPushKeyKept(t *testing.T) {
	dir := t.TempDir()
	p := runPlexd(t, "-data-dir", dir, "-webpush-subject", webPushSubject)
	status, first := getKey(t, p)
	require.Equal(t, http.StatusOK, status)
	fi, err := os.Stat(filepath.Join(dir, webPushKeyFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	require.Contains(t, p.stdout.String(), "(generated)")
	p.stop(t)

	p = runPlexd(t, "-data-dir", dir, "-webpush-subject", webPushSubject)
	status, again := getKey(t, p)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, first, again, "the same key on every start")
	require.NotContains(t, p.stdout.String(), "(generated)")
	p.stop(t)

	p = runPlexd(t, "-data-dir", dir)
	status, _ = getKey(t, p)
	require.Equal(t, http.StatusNotFound, status, "Web Push not configured")
}

// TestWebPushKeyFile: -webpush-vapid-key takes a key in the base64url form
// other tools print; flags without -webpush-subject are refused.
func TestWebPushKeyFile(t *testing.T) {
	k, err := webpush.GenerateKey()
	require.NoError(t, err)
	raw, err := k.Bytes()
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "vapid.txt")
	require.NoError(t, os.WriteFile(file, []byte(base64.RawURLEncoding.EncodeToString(raw)+"\n"), 0o600))
	p := runPlexd(t, "-webpush-subject", "https://example.com/contact", "-webpush-vapid-key", file)
	_, key := getKey(t, p)
	require.Equal(t, webpush.PublicKey(k), key)

	var stderr strings.Builder
	code := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-webpush-vapid-key", file}, noEnv, io.Discard, &stderr)
	require.Equal(t, 1, code)
	require.Contains(t, stderr.String(), "need -webpush-subject")
	code = run(t.Context(), []string{"-addr", "127.0.0.1:0", "-webpush-subject", "ops@example.com"}, noEnv, io.Discard, &stderr)
	require.Equal(t, 1, code)
	require.Contains(t, stderr.String(), "must be a mailto: or https: URI")
}
