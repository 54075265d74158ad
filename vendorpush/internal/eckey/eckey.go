// Package eckey reads the P-256 ECDSA private keys vendors issue and
// plexd keeps: an APNs AuthKey (.p8) and a Web Push VAPID key.
package eckey

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// FromPEM returns the P-256 ECDSA key of a PEM "PRIVATE KEY" (PKCS #8) or
// "EC PRIVATE KEY" (SEC 1) block. An error's text says what is wrong with
// the key as a phrase to follow its name ("does not parse"); it never
// quotes the key.
func FromPEM(block *pem.Block) (*ecdsa.PrivateKey, error) {
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("is a PEM %q block, want PRIVATE KEY", block.Type)
	}
	if err != nil {
		return nil, errors.New("does not parse")
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("is not a P-256 ECDSA key")
	}
	return ec, nil
}
