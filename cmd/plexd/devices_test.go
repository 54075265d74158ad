package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/cluster"
	"github.com/plexpush/plex/cluster/embedded"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/vendorpush"
)

// fcmAccount writes a service-account file whose token endpoint is plain
// HTTP, which the FCM sender's HTTP/2-only client refuses locally: sends
// fail at once (logged with the redacted token) without leaving the host.
func fcmAccount(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	sa, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "plex-test", "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "push@plex-test.iam.gserviceaccount.com", "token_uri": "http://127.0.0.1:1/token",
	})
	file := filepath.Join(t.TempDir(), "sa.json")
	require.NoError(t, os.WriteFile(file, sa, 0o600))
	return file
}

// appConn is an app connection that sends requests and reads replies.
type appConn struct {
	c net.Conn
	w *pack.Writer
	r *pack.Reader
}

func dialApp(t *testing.T, addr, uid string) *appConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	a := &appConn{c: c, w: pack.NewWriter(c, pack.BigEndian, pack.JSON), r: pack.NewReader(c, pack.BigEndian, pack.JSON, 0)}
	a.send(t, pack.Message{URI: pack.URIAuth, Body: []byte(uid)})
	require.Equal(t, pack.URIAuthSuccess, a.read(t).URI)
	return a
}

func (a *appConn) send(t *testing.T, m pack.Message) {
	t.Helper()
	require.NoError(t, a.w.WriteMessage(&m))
	require.NoError(t, a.w.Flush())
}

// read returns the next frame (generous deadline: a loaded machine).
func (a *appConn) read(t *testing.T) pack.Message {
	t.Helper()
	require.NoError(t, a.c.SetReadDeadline(time.Now().Add(20*time.Second)))
	var m pack.Message
	require.NoError(t, a.r.ReadMessage(&m))
	return m
}

func (a *appConn) register(t *testing.T, seq int64, uri, token string) {
	t.Helper()
	a.send(t, pack.Message{Seq: seq, URI: uri, Body: []byte(`{"platform":"fcm","token":"` + token + `"}`)})
	got := a.read(t)
	require.Equal(t, pack.URIReply, got.URI, "%s: %s", uri, got.Body)
	require.Equal(t, seq, got.Seq)
}

// devicesOn reads uid's devices from the plex cluster's bucket, through
// a connection of its own, as any node would.
func devicesOn(t *testing.T, connect func() (*nats.Conn, error), uid string) []vendorpush.Device {
	t.Helper()
	nc, err := connect()
	require.NoError(t, err)
	defer nc.Close()
	c, err := cluster.New(cluster.Config{Conn: nc})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	devs, err := c.Devices(0).Devices(ctx, uid)
	require.NoError(t, err)
	return devs
}

// TestDevicesSharedByPlexds: an app registers its token on one plexd; a
// push handled by another plexd on the same NATS, while the app is
// offline, finds the device.
func TestDevicesSharedByPlexds(t *testing.T) {
	ns, err := embedded.Start(embedded.Config{StoreDir: t.TempDir(), Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	defer ns.Shutdown()
	sa := fcmAccount(t)
	a := runPlexd(t, "-nats", ns.ClientURL(), "-node-heartbeat", "100ms", "-fcm-service-account", sa)
	b := runPlexd(t, "-nats", ns.ClientURL(), "-node-heartbeat", "100ms", "-fcm-service-account", sa)

	app := dialApp(t, a.addrs["addr"], "alice")
	app.register(t, 1, uriDeviceRegister, "zq81xk-alice-phone")
	app.c.Close() // alice is offline everywhere now

	require.Equal(t, []vendorpush.Device{{Platform: vendorpush.FCM, Token: "zq81xk-alice-phone"}},
		devicesOn(t, func() (*nats.Conn, error) { return ns.Connect() }, "alice"), "in the cluster's bucket")

	// b's offline hook looks the device up and tries to send to it (the
	// send fails: no real FCM here); its log names the device, redacted.
	require.Eventually(t, func() bool {
		b.push(t, `{"uid":"alice","uri":"/chat","body":"hi"}`)
		return strings.Contains(b.stderr.String(), vendorpush.Redact("zq81xk-alice-phone"))
	}, 20*time.Second, 500*time.Millisecond, "b never sent to alice's device: %s", b.stderr.String())
	require.NotContains(t, b.stderr.String(), "zq81xk-alice-phone", "the token in clear in a log")
}

// TestDevicesSurviveRestart: with the default embedded NATS, device tokens
// are kept in the data directory.
func TestDevicesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	p := runPlexd(t, "-data-dir", dir, "-fcm-service-account", fcmAccount(t))
	app := dialApp(t, p.addrs["addr"], "alice")
	app.register(t, 7, uriDeviceRegister, "alice-phone")
	app.register(t, 8, uriDeviceRegister, "alice-tablet")
	app.register(t, 9, uriDeviceUnregister, "alice-phone")
	p.stop(t)

	// The embedded server's files, opened by a NATS server of the test's.
	ns, err := embedded.Start(embedded.Config{StoreDir: filepath.Join(dir, "nats")})
	require.NoError(t, err)
	defer ns.Shutdown()
	require.Equal(t, []vendorpush.Device{{Platform: vendorpush.FCM, Token: "alice-tablet"}},
		devicesOn(t, func() (*nats.Conn, error) { return ns.Connect() }, "alice"))
}

// TestDeviceRequestsInOrder: a user's requests take effect in the order
// they were sent, though the bucket is written off the read path; replies
// carry the requests' seqs.
func TestDeviceRequestsInOrder(t *testing.T) {
	ns, err := embedded.Start(embedded.Config{StoreDir: t.TempDir(), Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	defer ns.Shutdown()
	p := runPlexd(t, "-nats", ns.ClientURL(), "-fcm-service-account", fcmAccount(t))
	app := dialApp(t, p.addrs["addr"], "alice")
	const n = 20
	for i := range int64(n) { // no waiting for replies
		uri := uriDeviceRegister
		if i%2 == 1 {
			uri = uriDeviceUnregister
		}
		token := "phone"
		if i >= n-2 {
			token = "tablet" // the last two: registered, then unregistered
		}
		app.send(t, pack.Message{Seq: i + 1, URI: uri, Body: []byte(`{"platform":"fcm","token":"` + token + `"}`)})
	}
	app.send(t, pack.Message{Seq: 100, URI: uriDeviceRegister, Body: []byte(`{"platform":"fcm","token":"watch"}`)})
	seqs := map[int64]bool{}
	for range n + 1 {
		m := app.read(t)
		require.Equal(t, pack.URIReply, m.URI, "%s", m.Body)
		seqs[m.Seq] = true
	}
	require.Len(t, seqs, n+1, "one reply per request")
	require.Equal(t, []vendorpush.Device{{Platform: vendorpush.FCM, Token: "watch"}},
		devicesOn(t, func() (*nats.Conn, error) { return ns.Connect() }, "alice"), "the unregisters came last")
}

// TestDevicesMemoryStore: with -store memory (no NATS), registration works
// as before, in memory.
func TestDevicesMemoryStore(t *testing.T) {
	p := runPlexd(t, "-store", "memory", "-fcm-service-account", fcmAccount(t))
	app := dialApp(t, p.addrs["addr"], "alice")
	app.register(t, 1, uriDeviceRegister, "alice-phone")
	app.send(t, pack.Message{Seq: 2, URI: uriDeviceRegister, Body: []byte(`{"platform":"fcm","token":""}`)})
	bad := app.read(t)
	require.Equal(t, pack.URIError, bad.URI)
	require.Equal(t, pack.CodeBadRequest, pack.ErrorOf(&bad).Code)
	app.register(t, 3, uriDeviceUnregister, "alice-phone")
}
