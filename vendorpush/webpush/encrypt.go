package webpush

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// RFC 8291 with RFC 8188's aes128gcm content coding, in one record.
const (
	// RecordSize is the rs of the header: one record of at most 4096
	// bytes, the size every push service must accept (RFC 8030 §7.2).
	RecordSize = 4096
	// headerLen: salt (16) + rs (4) + idlen (1) + the sender's public key
	// (65), RFC 8291 §4.
	headerLen = 16 + 4 + 1 + 65
	// MaxPlaintext is the largest message that fits: 4096 bytes of body,
	// less the header, the AEAD tag (16) and the padding delimiter (1):
	// 3993 bytes (RFC 8291 §4).
	MaxPlaintext = RecordSize - headerLen - 16 - 1
)

// encrypt seals plaintext for the user agent whose public key is uaPublic
// and whose auth secret is authSecret, with the sender's one-time key as
// and salt (16 random bytes); RFC 8291 §3.4 and §4. The result is the
// request body: the aes128gcm header followed by one record, padded with
// the delimiter alone (padding hides the length, but costs every push
// 4 KiB; the notification's size is not a secret here).
func encrypt(plaintext []byte, uaPublic *ecdh.PublicKey, authSecret []byte, as *ecdh.PrivateKey, salt []byte) ([]byte, error) {
	if len(plaintext) > MaxPlaintext {
		return nil, fmt.Errorf("webpush: message of %d bytes, at most %d", len(plaintext), MaxPlaintext)
	}
	if len(salt) != 16 || len(authSecret) != 16 {
		return nil, fmt.Errorf("webpush: salt and auth secret must be 16 bytes")
	}
	ecdhSecret, err := as.ECDH(uaPublic)
	if err != nil {
		return nil, fmt.Errorf("webpush: ECDH: %w", err)
	}
	asPublic := as.PublicKey().Bytes()
	// key_info = "WebPush: info" || 0x00 || ua_public || as_public
	keyInfo := "WebPush: info\x00" + string(uaPublic.Bytes()) + string(asPublic)
	ikm, err := hkdf.Key(sha256.New, ecdhSecret, authSecret, keyInfo, 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	out := make([]byte, headerLen, headerLen+len(plaintext)+1+gcm.Overhead())
	copy(out, salt)
	binary.BigEndian.PutUint32(out[16:], RecordSize)
	out[20] = byte(len(asPublic))
	copy(out[21:], asPublic)
	record := append(append(make([]byte, 0, len(plaintext)+1), plaintext...), 2) // 0x02: the last record
	return gcm.Seal(out, nonce, record, nil), nil
}
