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
	"github.com/plexpush/plex/vendorpush/webpush/webpushtest"
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
	return dialDevice(t, addr, uid, "", false)
}

// dialDevice logs in as uid from device ("": none), acking pushes if acks.
func dialDevice(t *testing.T, addr, uid, device string, acks bool) *appConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	a := &appConn{c: c, w: pack.NewWriter(c, pack.BigEndian, pack.JSON), r: pack.NewReader(c, pack.BigEndian, pack.JSON, 0)}
	meta := map[string]string{}
	if device != "" {
		meta[pack.MetaDevice] = device
	}
	if acks {
		meta[pack.MetaAcks] = "1"
	}
	a.send(t, pack.Message{URI: pack.URIAuth, Body: []byte(uid), Meta: meta})
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

// TestDevicesKeepTheSessionsDevice: /device/register records the token
// with the registering connection's device id (meta "device"; "" without
// one); the same token registered from another device is one entry with
// the newer id.
func TestDevicesKeepTheSessionsDevice(t *testing.T) {
	ns, err := embedded.Start(embedded.Config{StoreDir: t.TempDir(), Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	defer ns.Shutdown()
	p := runPlexd(t, "-nats", ns.ClientURL(), "-fcm-service-account", fcmAccount(t))
	connect := func() (*nats.Conn, error) { return ns.Connect() }

	dialDevice(t, p.addrs["addr"], "alice", "phone", false).register(t, 1, uriDeviceRegister, "phone-token")
	dialDevice(t, p.addrs["addr"], "alice", "tablet", false).register(t, 1, uriDeviceRegister, "tablet-token")
	dialApp(t, p.addrs["addr"], "alice").register(t, 1, uriDeviceRegister, "old-app-token")
	require.Equal(t, []vendorpush.Device{
		{Platform: vendorpush.FCM, Token: "phone-token", ID: "phone"},
		{Platform: vendorpush.FCM, Token: "tablet-token", ID: "tablet"},
		{Platform: vendorpush.FCM, Token: "old-app-token"},
	}, devicesOn(t, connect, "alice"))

	// The phone's app reinstalled with a new device id, same token.
	phone2 := dialDevice(t, p.addrs["addr"], "alice", "phone-2", false)
	phone2.register(t, 2, uriDeviceRegister, "phone-token")
	require.Equal(t, []vendorpush.Device{
		{Platform: vendorpush.FCM, Token: "tablet-token", ID: "tablet"},
		{Platform: vendorpush.FCM, Token: "old-app-token"},
		{Platform: vendorpush.FCM, Token: "phone-token", ID: "phone-2"},
	}, devicesOn(t, connect, "alice"), "one entry per token, with the newer id")
	// Unregistering goes by the token, from any of the user's connections.
	phone2.register(t, 3, uriDeviceUnregister, "tablet-token")
	require.Len(t, devicesOn(t, connect, "alice"), 2)
}

// TestDevicePushFallbackGoesToThatDevice: alice's browsers on her phone
// and her laptop each registered a Web Push subscription from their plex
// connection, a third from a connection without a device id. A push to
// her laptop that is never acked (OnUnacked), and one that finds her
// offline (OnUndelivered), each reach the laptop's subscription only; a
// push to alice reaches all three.
func TestDevicePushFallbackGoesToThatDevice(t *testing.T) {
	svc := webpushtest.New()
	defer svc.Close()
	svc.Subject = webPushSubject
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, svc.CertPEM(), 0o600))
	p := runPlexd(t, "-store", "memory", "-data-dir", t.TempDir(), "-webpush-subject", webPushSubject, "-webpush-ca", ca, "-webpush-allow-private")

	subscribe := func(a *appConn) string {
		sub := svc.Subscribe()
		body, _ := json.Marshal(map[string]string{"platform": "webpush", "token": sub})
		a.send(t, pack.Message{Seq: 1, URI: uriDeviceRegister, Body: body})
		got := a.read(t)
		require.Equal(t, pack.URIReply, got.URI, "register: %s", got.Body)
		var v struct{ Endpoint string }
		require.NoError(t, json.Unmarshal([]byte(sub), &v))
		return strings.TrimPrefix(v.Endpoint, svc.URL) // the path the service sees
	}
	phone := dialDevice(t, p.addrs["addr"], "alice", "phone", true)
	laptop := dialDevice(t, p.addrs["addr"], "alice", "laptop", true)
	other := dialApp(t, p.addrs["addr"], "alice")
	phonePath, laptopPath, otherPath := subscribe(phone), subscribe(laptop), subscribe(other)
	other.c.Close()
	phone.c.Close()

	// received waits for n messages in all, then a little for one more,
	// and returns the paths of those after the first skip.
	received := func(skip, n int) []string {
		t.Helper()
		require.Eventually(t, func() bool { return len(svc.Received()) >= skip+n }, 20*time.Second, 20*time.Millisecond,
			"%d messages, want %d", len(svc.Received()), skip+n)
		time.Sleep(300 * time.Millisecond) // another message would come now
		var paths []string
		for _, r := range svc.Received() {
			require.NoError(t, r.Err)
			paths = append(paths, r.Path)
		}
		require.Len(t, paths, skip+n, "messages to %v", paths)
		return paths[skip:]
	}

	// The laptop holds a connection but never acks: the ack timeout's
	// fallback goes to the laptop's subscription only.
	out := p.push(t, `{"uid":"alice","device":"laptop","uri":"/chat","body":"unacked","persist":true,"ack_timeout_ms":500,"meta":{"alert":"unacked"}}`)
	require.Equal(t, float64(1), out["delivered"], "outcome %v", out)
	require.Equal(t, "unacked", string(laptop.read(t).Body))
	require.Equal(t, []string{laptopPath}, received(0, 1), "the fallback of a push to the laptop")

	// Offline everywhere: the offline fallback, the same way.
	laptop.c.Close()
	require.Eventually(t, func() bool { return !online(t, p, "alice") }, 10*time.Second, 20*time.Millisecond)
	out = p.push(t, `{"uid":"alice","device":"laptop","uri":"/chat","body":"offline","meta":{"alert":"offline"}}`)
	require.Equal(t, float64(1), out["offline"], "outcome %v", out)
	require.Equal(t, []string{laptopPath}, received(1, 1), "the fallback of a push to the offline laptop")

	// A device without a token: nothing is sent.
	p.push(t, `{"uid":"alice","device":"watch","uri":"/chat","body":"to the watch","meta":{"alert":"x"}}`)
	// A push to alice: every subscription.
	p.push(t, `{"uid":"alice","uri":"/chat","body":"to alice","meta":{"alert":"to alice"}}`)
	require.ElementsMatch(t, []string{phonePath, laptopPath, otherPath}, received(2, 3))
}
