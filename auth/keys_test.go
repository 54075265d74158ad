package auth_test

import (
	"bytes"
	"crypto/elliptic"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
)

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

func TestLoadJWTKey(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"plain", "s3cret", "s3cret"},
		{"newline", "s3cret\n", "s3cret"},
		{"crlf", "s3cret\r\n", "s3cret"},
		{"blank lines", "s3cret\n\n\n", "s3cret"},
		{"spaces kept", " s3cret ", " s3cret "},
		{"inner newline kept", "a\nb\n", "a\nb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := auth.LoadJWTKey(writeFile(t, "key", []byte(tc.content)))
			require.NoError(t, err)
			require.Equal(t, tc.want, string(b))
		})
	}

	for _, tc := range []struct {
		name    string
		content []byte
	}{
		{"empty", nil},
		{"only newlines", []byte("\n\r\n")},
		{"too large", bytes.Repeat([]byte("k"), 64<<10+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := auth.LoadJWTKey(writeFile(t, "key", tc.content))
			require.ErrorIs(t, err, auth.ErrBadConfig)
			require.Nil(t, b)
		})
	}

	_, err := auth.LoadJWTKey(filepath.Join(t.TempDir(), "missing"))
	require.ErrorIs(t, err, fs.ErrNotExist)

	b, err := auth.LoadJWTKey(writeFile(t, "max", bytes.Repeat([]byte("k"), 64<<10)))
	require.NoError(t, err)
	require.Len(t, b, 64<<10)
}

func TestLoadJWTKeyIntoJWT(t *testing.T) {
	// The way plexd wires -jwt-secret and -jwt-public-key.
	secret, err := auth.LoadJWTKey(writeFile(t, "secret", append(bytes.Clone(hmacSecret), '\n')))
	require.NoError(t, err)
	hs := newJWT(t, auth.JWTConfig{HMACSecret: secret})
	uid, err := hs.Authenticate(t.Context(), sign(t, jwt.SigningMethodHS256, hmacSecret, claims()), nil)
	require.NoError(t, err)
	require.Equal(t, "alice", uid)

	key := ecKey(t, elliptic.P256())
	pub, err := auth.LoadJWTKey(writeFile(t, "pub.pem", pubPEM(t, &key.PublicKey)))
	require.NoError(t, err)
	es := newJWT(t, auth.JWTConfig{PublicKeyPEM: pub})
	uid, err = es.Authenticate(t.Context(), sign(t, jwt.SigningMethodES256, key, claims()), nil)
	require.NoError(t, err)
	require.Equal(t, "alice", uid)
}
