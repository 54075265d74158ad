package auth_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"log/slog"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
)

// now is the clock of every JWT test.
var now = time.Unix(1_700_000_000, 0)

func fixedNow() time.Time { return now }

var hmacSecret = []byte("plex-test-secret-0123456789abcdef")

// claims returns valid claims for "alice", changed by mods.
func claims(mods ...func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{
		"sub": "alice",
		"exp": now.Add(time.Hour).Unix(),
		"iat": now.Unix(),
	}
	for _, m := range mods {
		m(c)
	}
	return c
}

func set(k string, v any) func(jwt.MapClaims) { return func(c jwt.MapClaims) { c[k] = v } }
func del(k string) func(jwt.MapClaims)        { return func(c jwt.MapClaims) { delete(c, k) } }

func sign(t *testing.T, m jwt.SigningMethod, key any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	require.NoError(t, err)
	return s
}

// unsigned builds header.payload. with an empty signature.
func unsigned(t *testing.T, header, payload string) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(payload)) + "."
}

func pubPEM(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Keys are generated once per test binary: RSA generation costs ~100 ms.
var (
	rsaKeyOnce  = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	rsaKey2Once = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
)

func mustRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func ecKey(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	require.NoError(t, err)
	return k
}

func newJWT(t *testing.T, cfg auth.JWTConfig) *auth.JWT {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = fixedNow
	}
	j, err := auth.NewJWT(cfg)
	require.NoError(t, err)
	return j
}

type jwtCase struct {
	name    string
	cfg     auth.JWTConfig // Now is filled in
	token   string
	wantUID string // "" means a CodeAuthFailed error is expected
	reason  string
}

func runJWTCases(t *testing.T, cases []jwtCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := newJWT(t, tc.cfg)
			uid, err := j.Authenticate(t.Context(), tc.token, remoteAddr)
			if tc.wantUID != "" {
				require.NoError(t, err)
				require.Equal(t, tc.wantUID, uid)
				return
			}
			require.Empty(t, uid)
			requireFailed(t, err, tc.reason, tc.token)
		})
	}
}

func TestJWTHMAC(t *testing.T) {
	hs := auth.JWTConfig{HMACSecret: hmacSecret}
	with := func(f func(*auth.JWTConfig)) auth.JWTConfig { c := hs; f(&c); return c }
	tok := func(mods ...func(jwt.MapClaims)) string {
		return sign(t, jwt.SigningMethodHS256, hmacSecret, claims(mods...))
	}
	good := tok()
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(
		[]byte(`{"sub":"mallory","exp":`+jsonInt(now.Add(time.Hour).Unix())+`}`)) + "." + parts[2]

	runJWTCases(t, []jwtCase{
		{name: "good", cfg: hs, token: good, wantUID: "alice"},
		{name: "HS384", cfg: hs, token: sign(t, jwt.SigningMethodHS384, hmacSecret, claims()), wantUID: "alice"},
		{name: "HS512", cfg: hs, token: sign(t, jwt.SigningMethodHS512, hmacSecret, claims()), wantUID: "alice"},
		{name: "HS512 not in Algorithms", cfg: with(func(c *auth.JWTConfig) { c.Algorithms = []string{"HS256"} }),
			token: sign(t, jwt.SigningMethodHS512, hmacSecret, claims()), reason: "algorithm not allowed"},
		{name: "expired", cfg: hs, token: tok(set("exp", now.Add(-time.Minute).Unix())), reason: "token expired"},
		{name: "expires now", cfg: hs, token: tok(set("exp", now.Unix())), reason: "token expired"},
		{name: "expired within leeway", cfg: with(func(c *auth.JWTConfig) { c.Leeway = 30 * time.Second }),
			token: tok(set("exp", now.Add(-10*time.Second).Unix())), wantUID: "alice"},
		{name: "expired beyond leeway", cfg: with(func(c *auth.JWTConfig) { c.Leeway = 30 * time.Second }),
			token: tok(set("exp", now.Add(-time.Minute).Unix())), reason: "token expired"},
		{name: "nbf in the future", cfg: hs, token: tok(set("nbf", now.Add(time.Minute).Unix())), reason: "token not valid yet"},
		{name: "nbf future within leeway", cfg: with(func(c *auth.JWTConfig) { c.Leeway = time.Minute }),
			token: tok(set("nbf", now.Add(30*time.Second).Unix())), wantUID: "alice"},
		{name: "nbf past", cfg: hs, token: tok(set("nbf", now.Add(-time.Minute).Unix())), wantUID: "alice"},
		{name: "iat in the future", cfg: hs, token: tok(set("iat", now.Add(time.Minute).Unix())), reason: "issued in the future"},
		{name: "iat future within leeway", cfg: with(func(c *auth.JWTConfig) { c.Leeway = time.Minute }),
			token: tok(set("iat", now.Add(30*time.Second).Unix())), wantUID: "alice"},
		{name: "exp as a string", cfg: hs, token: tok(set("exp", strconv.FormatInt(now.Add(time.Hour).Unix(), 10))),
			reason: "exp, nbf and iat must be numbers"},
		{name: "nbf as a string", cfg: hs, token: tok(set("nbf", "0")), reason: "exp, nbf and iat must be numbers"},
		{name: "iat null", cfg: hs, token: tok(set("iat", nil)), reason: "exp, nbf and iat must be numbers"},
		{name: "exp fractional", cfg: hs, token: tok(set("exp", float64(now.Add(time.Hour).Unix())+0.5)), wantUID: "alice"},
		{name: "wrong secret", cfg: hs,
			token: sign(t, jwt.SigningMethodHS256, []byte("another-secret-0123456789abcdefgh"), claims()), reason: "bad signature"},
		{name: "tampered payload", cfg: hs, token: tampered, reason: "bad signature"},
		{name: "alg none", cfg: hs,
			token: sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims()), reason: "algorithm not allowed"},
		{name: "alg none handmade", cfg: hs,
			token:  unsigned(t, `{"alg":"none","typ":"JWT"}`, `{"sub":"alice","exp":`+jsonInt(now.Add(time.Hour).Unix())+`}`),
			reason: "algorithm not allowed"},
		{name: "alg NONE", cfg: hs,
			token:  unsigned(t, `{"alg":"NONE"}`, `{"sub":"alice","exp":`+jsonInt(now.Add(time.Hour).Unix())+`}`),
			reason: "algorithm not allowed"},
		{name: "no alg", cfg: hs,
			token: unsigned(t, `{"typ":"JWT"}`, `{"sub":"alice"}`), reason: "algorithm not allowed"},
		{name: "RS256 token to an HMAC verifier", cfg: hs,
			token: sign(t, jwt.SigningMethodRS256, rsaKeyOnce(), claims()), reason: "algorithm not allowed"},
		{name: "missing exp", cfg: hs, token: tok(del("exp")), reason: "missing exp"},
		{name: "missing exp allowed", cfg: with(func(c *auth.JWTConfig) { c.AllowMissingExp = true }),
			token: tok(del("exp")), wantUID: "alice"},
		{name: "expired though exp optional", cfg: with(func(c *auth.JWTConfig) { c.AllowMissingExp = true }),
			token: tok(set("exp", now.Add(-time.Minute).Unix())), reason: "token expired"},
		{name: "missing sub", cfg: hs, token: tok(del("sub")), reason: "missing sub"},
		{name: "empty sub", cfg: hs, token: tok(set("sub", "")), reason: "missing sub"},
		{name: "sub of 128 bytes", cfg: hs, token: tok(set("sub", strings.Repeat("u", 128))), wantUID: strings.Repeat("u", 128)},
		{name: "sub of 129 bytes", cfg: hs, token: tok(set("sub", strings.Repeat("u", 129))), reason: "sub too long"},
		{name: "sub with newline", cfg: hs, token: tok(set("sub", "alice\nadmin")), reason: "sub not printable"},
		{name: "sub not a string", cfg: hs, token: tok(set("sub", 42)), reason: "malformed token"},
		{name: "sub outside ValidUID is fine", cfg: hs, token: tok(set("sub", "auth0|5f7c ü")), wantUID: "auth0|5f7c ü"},
		{name: "issuer ok", cfg: with(func(c *auth.JWTConfig) { c.Issuer = "https://id.example" }),
			token: tok(set("iss", "https://id.example")), wantUID: "alice"},
		{name: "wrong issuer", cfg: with(func(c *auth.JWTConfig) { c.Issuer = "https://id.example" }),
			token: tok(set("iss", "https://evil.example")), reason: "wrong issuer"},
		{name: "missing issuer", cfg: with(func(c *auth.JWTConfig) { c.Issuer = "https://id.example" }),
			token: tok(), reason: "missing iss"},
		{name: "issuer unchecked", cfg: hs, token: tok(set("iss", "anyone")), wantUID: "alice"},
		{name: "audience string ok", cfg: with(func(c *auth.JWTConfig) { c.Audience = "plex" }),
			token: tok(set("aud", "plex")), wantUID: "alice"},
		{name: "audience list ok", cfg: with(func(c *auth.JWTConfig) { c.Audience = "plex" }),
			token: tok(set("aud", []string{"billing", "plex"})), wantUID: "alice"},
		{name: "wrong audience", cfg: with(func(c *auth.JWTConfig) { c.Audience = "plex" }),
			token: tok(set("aud", []string{"billing"})), reason: "wrong audience"},
		{name: "missing audience", cfg: with(func(c *auth.JWTConfig) { c.Audience = "plex" }),
			token: tok(), reason: "missing aud"},
		{name: "missing audience and exp optional", cfg: with(func(c *auth.JWTConfig) { c.Audience = "plex"; c.AllowMissingExp = true }),
			token: tok(del("exp")), reason: "missing aud"},
		{name: "empty", cfg: hs, token: "", reason: "malformed token"},
		{name: "garbage", cfg: hs, token: "not-a-jwt-at-all", reason: "malformed token"},
		{name: "two segments", cfg: hs, token: parts[0] + "." + parts[1], reason: "malformed token"},
		{name: "four segments", cfg: hs, token: good + ".x", reason: "malformed token"},
		{name: "bad base64", cfg: hs, token: "!!!." + parts[1] + "." + parts[2], reason: "malformed token"},
		{name: "header not JSON", cfg: hs,
			token:  base64.RawURLEncoding.EncodeToString([]byte("{oops SECRETSTUFF")) + "." + parts[1] + "." + parts[2],
			reason: "malformed token"},
	})
}

func jsonInt(n int64) string { return strconv.FormatInt(n, 10) }

func TestJWTAlgorithmConfusion(t *testing.T) {
	// The classic attack: the verifier holds an RSA public key; the attacker
	// signs an HS256 token using the public key's bytes as the HMAC secret,
	// hoping the verifier feeds the same bytes to HMAC.
	key := rsaKeyOnce()
	pemBytes := pubPEM(t, &key.PublicKey)
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	rs := auth.JWTConfig{PublicKeyPEM: pemBytes}

	runJWTCases(t, []jwtCase{
		{name: "HS256 signed with the PEM", cfg: rs,
			token: sign(t, jwt.SigningMethodHS256, pemBytes, claims()), reason: "algorithm not allowed"},
		{name: "HS256 signed with the DER", cfg: rs,
			token: sign(t, jwt.SigningMethodHS256, der, claims()), reason: "algorithm not allowed"},
		{name: "HS512 signed with the PEM", cfg: rs,
			token: sign(t, jwt.SigningMethodHS512, pemBytes, claims()), reason: "algorithm not allowed"},
		{name: "alg none to an RSA verifier", cfg: rs,
			token: sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims()), reason: "algorithm not allowed"},
		{name: "the genuine RS256 token", cfg: rs,
			token: sign(t, jwt.SigningMethodRS256, key, claims()), wantUID: "alice"},
	})

	// Nor can configuration open the door.
	for _, alg := range []string{"HS256", "none", "ES256", "EdDSA"} {
		_, err := auth.NewJWT(auth.JWTConfig{PublicKeyPEM: pemBytes, Algorithms: []string{alg}})
		require.ErrorIs(t, err, auth.ErrBadConfig, "Algorithms %q with an RSA key", alg)
	}
}

func TestJWTRSA(t *testing.T) {
	key, other := rsaKeyOnce(), rsaKey2Once()
	ec := ecKey(t, elliptic.P256())
	rs := auth.JWTConfig{PublicKeyPEM: pubPEM(t, &key.PublicKey)}
	pkcs1 := auth.JWTConfig{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{
		Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)})}
	onlyRS256 := rs
	onlyRS256.Algorithms = []string{"RS256"}

	runJWTCases(t, []jwtCase{
		{name: "RS256", cfg: rs, token: sign(t, jwt.SigningMethodRS256, key, claims()), wantUID: "alice"},
		{name: "RS512", cfg: rs, token: sign(t, jwt.SigningMethodRS512, key, claims()), wantUID: "alice"},
		{name: "PS256", cfg: rs, token: sign(t, jwt.SigningMethodPS256, key, claims()), wantUID: "alice"},
		{name: "PS256 not in Algorithms", cfg: onlyRS256,
			token: sign(t, jwt.SigningMethodPS256, key, claims()), reason: "algorithm not allowed"},
		{name: "PKCS1 PEM", cfg: pkcs1, token: sign(t, jwt.SigningMethodRS256, key, claims()), wantUID: "alice"},
		{name: "other RSA key", cfg: rs, token: sign(t, jwt.SigningMethodRS256, other, claims()), reason: "bad signature"},
		{name: "ES256 token", cfg: rs, token: sign(t, jwt.SigningMethodES256, ec, claims()), reason: "algorithm not allowed"},
		{name: "expired", cfg: rs,
			token: sign(t, jwt.SigningMethodRS256, key, claims(set("exp", now.Add(-time.Hour).Unix()))), reason: "token expired"},
	})
}

func TestJWTECDSA(t *testing.T) {
	key, other := ecKey(t, elliptic.P256()), ecKey(t, elliptic.P256())
	p384 := ecKey(t, elliptic.P384())
	es := auth.JWTConfig{PublicKeyPEM: pubPEM(t, &key.PublicKey)}
	es384 := auth.JWTConfig{PublicKeyPEM: pubPEM(t, &p384.PublicKey)}

	runJWTCases(t, []jwtCase{
		{name: "ES256", cfg: es, token: sign(t, jwt.SigningMethodES256, key, claims()), wantUID: "alice"},
		{name: "other EC key", cfg: es, token: sign(t, jwt.SigningMethodES256, other, claims()), reason: "bad signature"},
		{name: "ES384 token to a P-256 verifier", cfg: es,
			token: sign(t, jwt.SigningMethodES384, p384, claims()), reason: "algorithm not allowed"},
		{name: "ES384", cfg: es384, token: sign(t, jwt.SigningMethodES384, p384, claims()), wantUID: "alice"},
		{name: "RS256 token", cfg: es, token: sign(t, jwt.SigningMethodRS256, rsaKeyOnce(), claims()), reason: "algorithm not allowed"},
		{name: "HS256 signed with the PEM", cfg: es,
			token: sign(t, jwt.SigningMethodHS256, es.PublicKeyPEM, claims()), reason: "algorithm not allowed"},
		{name: "nbf in the future", cfg: es,
			token: sign(t, jwt.SigningMethodES256, key, claims(set("nbf", now.Add(time.Hour).Unix()))), reason: "token not valid yet"},
	})
}

func TestJWTEd25519AndRotation(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	rsaOld := rsaKeyOnce()
	ec := ecKey(t, elliptic.P256())
	// Several PEM blocks, with text between them as openssl prints it.
	bundle := bytes.Join([][]byte{
		[]byte("old key:\n"), pubPEM(t, &rsaOld.PublicKey),
		[]byte("new key:\n"), pubPEM(t, &ec.PublicKey),
		pubPEM(t, pub),
	}, nil)
	cfg := auth.JWTConfig{PublicKeyPEM: bundle}

	runJWTCases(t, []jwtCase{
		{name: "EdDSA", cfg: cfg, token: sign(t, jwt.SigningMethodEdDSA, priv, claims()), wantUID: "alice"},
		{name: "old RSA key", cfg: cfg, token: sign(t, jwt.SigningMethodRS256, rsaOld, claims()), wantUID: "alice"},
		{name: "new EC key", cfg: cfg, token: sign(t, jwt.SigningMethodES256, ec, claims()), wantUID: "alice"},
		{name: "unknown RSA key", cfg: cfg, token: sign(t, jwt.SigningMethodRS256, rsaKey2Once(), claims()), reason: "bad signature"},
		{name: "HS256 with the bundle", cfg: cfg, token: sign(t, jwt.SigningMethodHS256, bundle, claims()), reason: "algorithm not allowed"},
	})
}

func TestJWTCertificate(t *testing.T) {
	key := ecKey(t, elliptic.P256())
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "issuer"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cfg := auth.JWTConfig{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
	runJWTCases(t, []jwtCase{
		{name: "ES256 via certificate", cfg: cfg, token: sign(t, jwt.SigningMethodES256, key, claims()), wantUID: "alice"},
	})
}

func TestNewJWTConfigErrors(t *testing.T) {
	rsaPriv := rsaKeyOnce()
	privDER, err := x509.MarshalPKCS8PrivateKey(rsaPriv)
	require.NoError(t, err)
	small := mustRSA(1024)
	p224 := ecKey(t, elliptic.P224())
	p224DER, err := x509.MarshalPKIXPublicKey(&p224.PublicKey)
	require.NoError(t, err)
	rsaPEM := pubPEM(t, &rsaPriv.PublicKey)
	shortSecret := []byte("short-SECRET-value")

	for _, tc := range []struct {
		name string
		cfg  auth.JWTConfig
	}{
		{"no key", auth.JWTConfig{}},
		{"both keys", auth.JWTConfig{HMACSecret: hmacSecret, PublicKeyPEM: rsaPEM}},
		{"short secret", auth.JWTConfig{HMACSecret: shortSecret}},
		{"private key", auth.JWTConfig{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})}},
		{"RSA private key", auth.JWTConfig{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{
			Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaPriv)})}},
		{"not PEM", auth.JWTConfig{PublicKeyPEM: []byte("ssh-rsa AAAAB3NzaC1yc2E")}},
		{"unsupported block", auth.JWTConfig{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "OPENSSH KEY", Bytes: []byte{1}})}},
		{"corrupt key", auth.JWTConfig{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2, 3}})}},
		{"RSA 1024", auth.JWTConfig{PublicKeyPEM: pubPEM(t, &small.PublicKey)}},
		{"P-224", auth.JWTConfig{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: p224DER})}},
		{"second block bad", auth.JWTConfig{PublicKeyPEM: append(bytes.Clone(rsaPEM), pubPEM(t, &small.PublicKey)...)}},
		{"alg none", auth.JWTConfig{HMACSecret: hmacSecret, Algorithms: []string{"none"}}},
		{"RS256 with a secret", auth.JWTConfig{HMACSecret: hmacSecret, Algorithms: []string{"HS256", "RS256"}}},
		{"unknown alg", auth.JWTConfig{HMACSecret: hmacSecret, Algorithms: []string{"hs256"}}},
		{"negative leeway", auth.JWTConfig{HMACSecret: hmacSecret, Leeway: -time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, err := auth.NewJWT(tc.cfg)
			require.ErrorIs(t, err, auth.ErrBadConfig)
			require.Nil(t, j)
			require.NotContains(t, err.Error(), string(hmacSecret))
			require.NotContains(t, err.Error(), string(shortSecret))
		})
	}
}

func TestJWTCopiesConfig(t *testing.T) {
	secret := bytes.Clone(hmacSecret)
	j := newJWT(t, auth.JWTConfig{HMACSecret: secret})
	tok := sign(t, jwt.SigningMethodHS256, hmacSecret, claims())
	for i := range secret {
		secret[i] = 0 // the caller wipes its copy
	}
	uid, err := j.Authenticate(t.Context(), tok, nil)
	require.NoError(t, err)
	require.Equal(t, "alice", uid)
}

func TestJWTZeroValue(t *testing.T) {
	for _, j := range []*auth.JWT{nil, {}} {
		uid, err := j.Authenticate(t.Context(), "x.y.z", nil)
		require.Empty(t, uid)
		requireUnavailable(t, err, "x.y.z")
	}
}

func TestJWTLogsNoToken(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	j := newJWT(t, auth.JWTConfig{HMACSecret: hmacSecret, Logger: log})
	bad := sign(t, jwt.SigningMethodHS256, hmacSecret, claims(set("exp", now.Add(-time.Hour).Unix())))
	_, err := j.Authenticate(t.Context(), bad, remoteAddr)
	requireFailed(t, err, "token expired", bad)
	require.Contains(t, buf.String(), "token expired")
	require.Contains(t, buf.String(), remoteAddr.String())
	for _, seg := range strings.Split(bad, ".") {
		require.NotContains(t, buf.String(), seg)
	}
	require.NotContains(t, buf.String(), string(hmacSecret))
}

func TestJWTConcurrent(t *testing.T) {
	j := newJWT(t, auth.JWTConfig{HMACSecret: hmacSecret})
	good := sign(t, jwt.SigningMethodHS256, hmacSecret, claims())
	bad := sign(t, jwt.SigningMethodHS256, hmacSecret, claims(del("sub")))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for range 50 {
				if i%2 == 0 {
					uid, err := j.Authenticate(t.Context(), good, remoteAddr)
					if err != nil || uid != "alice" {
						t.Errorf("good token: got %q, %v; want alice", uid, err)
						return
					}
				} else if _, err := j.Authenticate(t.Context(), bad, remoteAddr); err == nil {
					t.Errorf("token without sub: got nil error")
					return
				}
			}
		})
	}
	wg.Wait()
}
