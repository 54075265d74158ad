package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/vendorpush/webpush"
	"github.com/plexpush/plex/vendorpush/webpush/webpushtest"
)

// TestAckTimeoutFallbackSurvivesRestart: the default daemon (embedded
// JetStream) with Web Push; alice's app receives a persistent push with an
// ack timeout and never acks it (its OS froze it); plexd restarts on its
// data directory before the deadline. The deadline was kept in JetStream:
// the restarted node sends exactly one notification to alice's browser.
func TestAckTimeoutFallbackSurvivesRestart(t *testing.T) {
	svc := webpushtest.New()
	defer svc.Close()
	svc.Subject = webPushSubject
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, svc.CertPEM(), 0o600))
	args := []string{"-data-dir", t.TempDir(), "-webpush-subject", webPushSubject, "-webpush-ca", ca, "-webpush-allow-private"}
	p := runPlexd(t, args...)

	// alice's browser subscribed earlier (any connection of hers registers it)
	reg := dialApp(t, p.addrs["addr"], "alice")
	body, _ := json.Marshal(map[string]string{"platform": "webpush", "token": svc.Subscribe()})
	reg.send(t, pack.Message{Seq: 1, URI: uriDeviceRegister, Body: body})
	require.Equal(t, pack.URIReply, reg.read(t).URI)
	reg.c.Close()

	// her phone app acks pushes (acks=1), but this one it only receives
	c, err := net.Dial("tcp", p.addrs["addr"])
	require.NoError(t, err)
	defer c.Close()
	phone := &appConn{c: c, w: pack.NewWriter(c, pack.BigEndian, pack.JSON), r: pack.NewReader(c, pack.BigEndian, pack.JSON, 0)}
	phone.send(t, pack.Message{URI: pack.URIAuth, Body: []byte("alice"), Meta: map[string]string{pack.MetaAcks: "1", pack.MetaDevice: "phone"}})
	require.Equal(t, pack.URIAuthSuccess, phone.read(t).URI)
	out := p.push(t, `{"uid":"alice","uri":"/chat","body":"are you there?","persist":true,"ack_timeout_ms":2000,"meta":{"alert":"are you there?"}}`)
	require.Equal(t, float64(1), out["delivered"], "outcome %v", out)
	got := phone.read(t)
	require.Equal(t, "are you there?", string(got.Body))
	require.Positive(t, got.Seq)

	p.stop(t) // before the deadline
	require.Empty(t, svc.Received(), "nothing sent before the deadline")
	p = runPlexd(t, args...)
	_ = p

	require.Eventually(t, func() bool { return len(svc.Received()) > 0 }, 20*time.Second, 20*time.Millisecond,
		"the restarted node fired the deadline it found in JetStream")
	time.Sleep(500 * time.Millisecond) // a second message would come now
	msgs := svc.Received()
	require.Len(t, msgs, 1, "exactly one notification")
	require.NoError(t, msgs[0].Err)
	var m webpush.Message
	require.NoError(t, json.Unmarshal(msgs[0].Plaintext, &m), "plaintext %s", msgs[0].Plaintext)
	require.Equal(t, "are you there?", m.Body)
}
