package webpush_test

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/vendorpush/webpush"
	"github.com/plexpush/plex/vendorpush/webpush/webpushtest"
)

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	require.NoError(t, err, "test vector %q", s)
	return b
}

// TestRFC8291Vector encrypts the example of RFC 8291 Appendix A with its
// fixed keys and salt: the message must be the RFC's, byte for byte, and
// the test's own decryption (webpushtest.Decrypt) must open it.
func TestRFC8291Vector(t *testing.T) {
	const (
		plaintext = "When I grow up, I want to be a watermelon"
		asPrivate = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
		asPublic  = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
		uaPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
		uaPublic  = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
		salt      = "DGv6ra1nlYgDCS1FRnbzlw"
		auth      = "BTBZMqHH6r4Tts7J_aSIgg"
		message   = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
	)
	as, err := ecdh.P256().NewPrivateKey(b64(t, asPrivate))
	require.NoError(t, err)
	require.Equal(t, asPublic, base64.RawURLEncoding.EncodeToString(as.PublicKey().Bytes()), "as_public of as_private")
	ua, err := ecdh.P256().NewPrivateKey(b64(t, uaPrivate))
	require.NoError(t, err)
	require.Equal(t, uaPublic, base64.RawURLEncoding.EncodeToString(ua.PublicKey().Bytes()), "ua_public of ua_private")

	got, err := webpush.Encrypt([]byte(plaintext), ua.PublicKey(), b64(t, auth), as, b64(t, salt))
	require.NoError(t, err)
	require.Equal(t, message, base64.RawURLEncoding.EncodeToString(got), "encrypted message differs from RFC 8291 Appendix A")

	plain, err := webpushtest.Decrypt(b64(t, message), ua, b64(t, auth))
	require.NoError(t, err, "the test's decryption opens the RFC's message")
	require.Equal(t, plaintext, string(plain))
}

func TestEncryptLimit(t *testing.T) {
	ua, err := ecdh.P256().GenerateKey(rand.Reader)
	require.NoError(t, err)
	as, err := ecdh.P256().GenerateKey(rand.Reader)
	require.NoError(t, err)
	auth, salt := make([]byte, 16), make([]byte, 16)

	full, err := webpush.Encrypt(make([]byte, webpush.MaxPlaintext), ua.PublicKey(), auth, as, salt)
	require.NoError(t, err)
	require.Len(t, full, webpush.RecordSize, "the largest message fills the 4096-byte record exactly")
	plain, err := webpushtest.Decrypt(full, ua, auth)
	require.NoError(t, err)
	require.Len(t, plain, webpush.MaxPlaintext)

	_, err = webpush.Encrypt(make([]byte, webpush.MaxPlaintext+1), ua.PublicKey(), auth, as, salt)
	require.Error(t, err, "one byte more does not fit the record")
}
