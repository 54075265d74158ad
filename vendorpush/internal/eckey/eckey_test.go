package eckey_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/vendorpush/internal/eckey"
)

func TestFromPEM(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	sec1, err := x509.MarshalECPrivateKey(k)
	require.NoError(t, err)
	for _, b := range []*pem.Block{{Type: "PRIVATE KEY", Bytes: pkcs8}, {Type: "EC PRIVATE KEY", Bytes: sec1}} {
		got, err := eckey.FromPEM(b)
		require.NoError(t, err, b.Type)
		require.True(t, k.Equal(got), b.Type)
	}

	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	p384der, err := x509.MarshalPKCS8PrivateKey(p384)
	require.NoError(t, err)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	rsaDER, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	require.NoError(t, err)
	for _, tt := range []struct {
		block *pem.Block
		want  string
	}{
		{&pem.Block{Type: "CERTIFICATE", Bytes: pkcs8}, `is a PEM "CERTIFICATE" block, want PRIVATE KEY`},
		{&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}, "does not parse"},
		{&pem.Block{Type: "PRIVATE KEY", Bytes: p384der}, "is not a P-256 ECDSA key"},
		{&pem.Block{Type: "PRIVATE KEY", Bytes: rsaDER}, "is not a P-256 ECDSA key"},
	} {
		_, err := eckey.FromPEM(tt.block)
		require.EqualError(t, err, tt.want)
	}
}
