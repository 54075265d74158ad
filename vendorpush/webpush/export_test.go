package webpush

import (
	"context"
	"crypto/ecdh"
	"time"
)

// SetRetryHooks replaces the backoff's sleep and jitter source, so tests
// record the waits instead of taking them.
func SetRetryHooks(c *Client, sleep func(context.Context, time.Duration) error, rand func() float64) {
	c.retry.Sleep = sleep
	c.retry.Rand = rand
}

// Encrypt is encrypt with the sender key and salt given, for the RFC 8291
// test vector.
func Encrypt(plaintext []byte, ua *ecdh.PublicKey, auth []byte, as *ecdh.PrivateKey, salt []byte) ([]byte, error) {
	return encrypt(plaintext, ua, auth, as, salt)
}
