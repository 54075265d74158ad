package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
)

func TestDeviceRegistrationWithVendorPush(t *testing.T) {
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	sa, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "plex-test", "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "push@plex-test.iam.gserviceaccount.com", "token_uri": "https://oauth2.example/token",
	})
	saFile := filepath.Join(dir, "sa.json")
	require.NoError(t, os.WriteFile(saFile, sa, 0o600))
	p := runPlexd(t, "-http", "", "-fcm-service-account", saFile)
	addrs := p.addrs

	c, err := net.Dial("tcp", addrs["addr"])
	require.NoError(t, err)
	defer c.Close()
	w := pack.NewWriter(c, pack.BigEndian, pack.JSON)
	r := pack.NewReader(c, pack.BigEndian, pack.JSON, 0)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	send := func(m pack.Message) pack.Message {
		require.NoError(t, w.WriteMessage(&m))
		require.NoError(t, w.Flush())
		var got pack.Message
		require.NoError(t, r.ReadMessage(&got))
		return got
	}
	require.Equal(t, pack.URIAuthSuccess, send(pack.Message{URI: pack.URIAuth, Body: []byte("alice")}).URI)
	ok := send(pack.Message{Seq: 1, URI: "/device/register", Body: []byte(`{"platform":"fcm","token":"fcm-token-1"}`)})
	require.Equal(t, pack.URIReply, ok.URI)
	require.Equal(t, int64(1), ok.Seq)
	bad := send(pack.Message{Seq: 2, URI: "/device/register", Body: []byte(`{"platform":"apns","token":"x"}`)})
	require.Equal(t, pack.URIError, bad.URI, "apns is not enabled on this node")
	require.Equal(t, pack.CodeBadRequest, pack.ErrorOf(&bad).Code)
	require.Equal(t, pack.URIReply, send(pack.Message{Seq: 3, URI: "/device/unregister", Body: []byte(`{"platform":"fcm","token":"fcm-token-1"}`)}).URI)
}
