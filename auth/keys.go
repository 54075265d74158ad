package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"strings"
)

const (
	// maxKeyFile caps what LoadJWTKey reads: a PEM public key is under 1 KiB
	// and a certificate chain a few KiB, so 64 KiB is generous while a wrong
	// path (a log file, a device) fails fast instead of filling memory.
	maxKeyFile = 64 << 10
	// minHMACSecret is the shortest HMAC secret: RFC 7518 §3.2 requires a key
	// at least as long as the hash output, 256 bits for HS256.
	minHMACSecret = 32
	// minRSABits is the smallest RSA modulus accepted: keys under 2048 bits
	// are deprecated (NIST SP 800-131A) and cheap to break.
	minRSABits = 2048
)

// LoadJWTKey reads a JWT key file for JWTConfig: an HMAC secret (for
// HMACSecret) or PEM public keys (for PublicKeyPEM). Trailing "\r" and "\n"
// are removed, so a secret written with `echo secret > file` is "secret";
// other bytes, including spaces, are kept. The file must not be empty and
// must not exceed 64 KiB. Errors name the path, never the contents.
func LoadJWTKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("auth: read JWT key: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("auth: read JWT key %s: %w", path, err)
	}
	if len(b) > maxKeyFile {
		return nil, badConfig("JWT key file %s is larger than 64 KiB", path)
	}
	b = bytes.TrimRight(b, "\r\n")
	if len(b) == 0 {
		return nil, badConfig("JWT key file %s is empty", path)
	}
	return b, nil
}

// keyAlgs maps each JWS algorithm to the keys that may verify it. Keys of
// one type are only ever listed under the algorithms of that type, which is
// what makes the verifier immune to algorithm confusion.
type keyAlgs map[string][]any

func (k keyAlgs) add(key any, algs ...string) {
	for _, a := range algs {
		k[a] = append(k[a], key)
	}
}

// hmacAlgs are the algorithms of a shared secret.
var hmacAlgs = []string{"HS256", "HS384", "HS512"}

// rsaAlgs are the algorithms of an RSA public key.
var rsaAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}

// parsePublicKeys reads every PEM block of b: "PUBLIC KEY" (PKIX), "RSA
// PUBLIC KEY" (PKCS #1) or "CERTIFICATE". Text between blocks is ignored.
func parsePublicKeys(b []byte) (keyAlgs, error) {
	ka := keyAlgs{}
	n := 0
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		n++
		var key any
		var err error
		switch {
		case strings.Contains(block.Type, "PRIVATE KEY"):
			return nil, badConfig("PublicKeyPEM block %d is a private key (%s); give the public key", n, block.Type)
		case block.Type == "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(block.Bytes)
		case block.Type == "RSA PUBLIC KEY":
			key, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case block.Type == "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
				key = cert.PublicKey
			}
		default:
			return nil, badConfig("PublicKeyPEM block %d has unsupported type %q", n, block.Type)
		}
		if err != nil {
			return nil, badConfig("PublicKeyPEM block %d: %v", n, err)
		}
		if err := ka.addPublic(key); err != nil {
			return nil, badConfig("PublicKeyPEM block %d: %v", n, err)
		}
	}
	if n == 0 {
		return nil, badConfig("PublicKeyPEM holds no PEM block")
	}
	return ka, nil
}

// addPublic files a public key under the algorithms of its type (and, for
// ECDSA, of its curve: ES256 is P-256 only, RFC 7518 §3.4).
func (k keyAlgs) addPublic(key any) error {
	switch key := key.(type) {
	case *rsa.PublicKey:
		if key.N.BitLen() < minRSABits {
			return fmt.Errorf("RSA key has %d bits; at least %d are required", key.N.BitLen(), minRSABits)
		}
		k.add(key, rsaAlgs...)
	case *ecdsa.PublicKey:
		switch key.Curve {
		case elliptic.P256():
			k.add(key, "ES256")
		case elliptic.P384():
			k.add(key, "ES384")
		case elliptic.P521():
			k.add(key, "ES512")
		default:
			return fmt.Errorf("ECDSA curve %s is not used by JWS", key.Curve.Params().Name)
		}
	case ed25519.PublicKey:
		k.add(key, "EdDSA")
	default:
		return fmt.Errorf("unsupported public key type %T", key)
	}
	return nil
}
