// Package webpushtest is a fake Web Push service for tests: a local HTTPS
// server that hands out subscriptions, checks each message's VAPID token
// (RFC 8292) with the key of its k= parameter, decrypts it (RFC 8291) with
// the subscription's private key, and answers as scripted.
//
// Its decryption is written from the RFCs with crypto/hmac, apart from
// package webpush's encryption (crypto/hkdf), so a test that passes
// proves the two agree with the RFCs, not merely with each other.
package webpushtest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plexpush/plex/vendorpush/webpush"
)

// Received is one request the service got.
type Received struct {
	Path   string
	Header http.Header
	// Plaintext is the decrypted message, nil when Err is set.
	Plaintext []byte
	// Claims are the VAPID JWT's claims (aud, exp, sub), once verified.
	Claims jwt.MapClaims
	// Key is the k= parameter: the sender's VAPID public key.
	Key string
	// Err says why the request was refused (bad VAPID, undecryptable),
	// nil when it was accepted or answered as scripted.
	Err error
}

// Reply is a scripted answer.
type Reply struct {
	Status int
	Header map[string]string
}

// Service is a fake push service. Make it with New; Close it.
type Service struct {
	// URL is the server's base URL (https://127.0.0.1:port).
	URL string
	// Subject, when set, is the "sub" every VAPID token must carry.
	Subject string
	// Now is the clock that checks exp. Nil: time.Now.
	Now func() time.Time

	srv    *httptest.Server
	client *http.Client

	mu     sync.Mutex
	subs   map[string]*subscriber // path → keys
	next   int
	got    []Received
	script []Reply
}

type subscriber struct {
	key  *ecdh.PrivateKey
	auth []byte
}

// New starts a service on 127.0.0.1 with HTTP/2 and a self-signed
// certificate.
func New() *Service {
	s := &Service{subs: map[string]*subscriber{}}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.EnableHTTP2 = true
	s.srv.StartTLS()
	s.URL = s.srv.URL
	pool := x509.NewCertPool()
	pool.AddCert(s.srv.Certificate())
	s.client = webpush.NewHTTPClient(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, true)
	return s
}

// Close stops the server and the client's idle connections.
func (s *Service) Close() {
	s.client.CloseIdleConnections()
	s.srv.Close()
}

// Client returns an HTTP client that trusts the service (loopback
// allowed), for webpush.Config.HTTPClient.
func (s *Service) Client() *http.Client { return s.client }

// CertPEM returns the service's certificate as PEM, for a process that
// must trust it (plexd's -webpush-ca).
func (s *Service) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

// Subscribe makes a subscription as a browser would and returns its JSON.
func (s *Service) Subscribe() string {
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	s.mu.Lock()
	s.next++
	path := "/push/sub-" + strconv.Itoa(s.next)
	s.subs[path] = &subscriber{key: key, auth: auth}
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]any{
		"endpoint":       s.URL + path,
		"expirationTime": nil,
		"keys": map[string]string{
			"p256dh": base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()),
			"auth":   base64.RawURLEncoding.EncodeToString(auth),
		},
	})
	return string(b)
}

// Script makes the service answer the next requests with replies in turn
// (the last one repeats). Without a script, or for a request the service
// refuses, it answers 201 or the refusal.
func (s *Service) Script(replies ...Reply) {
	s.mu.Lock()
	s.script = replies
	s.mu.Unlock()
}

// Received returns the requests so far.
func (s *Service) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.got...)
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rec := Received{Path: r.URL.Path, Header: r.Header.Clone()}
	s.mu.Lock()
	sub := s.subs[r.URL.Path]
	s.mu.Unlock()
	status := http.StatusCreated
	switch {
	case r.Method != http.MethodPost:
		rec.Err, status = fmt.Errorf("method %s", r.Method), http.StatusMethodNotAllowed
	case sub == nil:
		rec.Err, status = errors.New("no such subscription"), http.StatusNotFound
	default:
		if rec.Claims, rec.Key, rec.Err = s.checkVAPID(r.Header.Get("Authorization")); rec.Err != nil {
			status = http.StatusUnauthorized
		} else if rec.Plaintext, rec.Err = Decrypt(body, sub.key, sub.auth); rec.Err != nil {
			status = http.StatusBadRequest
		} else if ce := r.Header.Get("Content-Encoding"); ce != "aes128gcm" {
			rec.Err, status = fmt.Errorf("content encoding %q, want aes128gcm", ce), http.StatusBadRequest
		} else if _, err := strconv.ParseUint(r.Header.Get("TTL"), 10, 32); err != nil {
			rec.Err, status = errors.New("header TTL missing or not a number"), http.StatusBadRequest
		}
	}
	s.mu.Lock()
	n := len(s.got)
	s.got = append(s.got, rec)
	var rep *Reply
	if len(s.script) > 0 && rec.Err == nil {
		rep = &s.script[min(n, len(s.script)-1)]
	}
	s.mu.Unlock()
	if rep != nil {
		for k, v := range rep.Header {
			w.Header().Set(k, v)
		}
		status = rep.Status
	}
	if status == http.StatusCreated {
		w.Header().Set("Location", s.URL+"/message/"+strconv.Itoa(n))
	}
	w.WriteHeader(status)
	if rec.Err != nil {
		_, _ = io.WriteString(w, rec.Err.Error())
	}
}

// checkVAPID verifies "vapid t=<jwt>, k=<key>" (RFC 8292 §3): the
// signature with the k= key, aud = this service's origin, exp in the
// future and at most 24 hours ahead, sub a mailto: or https: URI (and
// Subject when set).
func (s *Service) checkVAPID(h string) (jwt.MapClaims, string, error) {
	rest, ok := strings.CutPrefix(h, "vapid ")
	if !ok {
		return nil, "", fmt.Errorf("authorization scheme is not vapid: %.10q", h)
	}
	var tok, key string
	for _, p := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch k {
		case "t":
			tok = v
		case "k":
			key = v
		}
	}
	raw, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil {
		return nil, key, fmt.Errorf("k= is not base64url: %w", err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return nil, key, fmt.Errorf("k= is not a P-256 point: %w", err)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithExpirationRequired(), jwt.WithAudience(s.URL),
		jwt.WithTimeFunc(now))
	if err != nil {
		return nil, key, fmt.Errorf("VAPID token: %w", err)
	}
	exp, _ := claims.GetExpirationTime()
	if exp.Sub(now()) > 24*time.Hour {
		return nil, key, fmt.Errorf("VAPID exp %v is more than 24 hours ahead", exp.Time)
	}
	sub, _ := claims["sub"].(string)
	if !strings.HasPrefix(sub, "mailto:") && !strings.HasPrefix(sub, "https://") || s.Subject != "" && sub != s.Subject {
		return nil, key, fmt.Errorf("VAPID sub %q", sub)
	}
	return claims, key, nil
}

// Decrypt opens an aes128gcm Web Push message (RFC 8188 §2 with the keys
// of RFC 8291 §3.3–3.4) for the user agent key ua and auth secret auth.
// It handles one record, which is all a push message may hold.
func Decrypt(body []byte, ua *ecdh.PrivateKey, auth []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("shorter than the aes128gcm header")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if len(body) < 21+idlen {
		return nil, errors.New("truncated key id")
	}
	keyID, ct := body[21:21+idlen], body[21+idlen:]
	if rs < 18 || uint32(len(ct)) > rs {
		return nil, fmt.Errorf("record of %d bytes with rs %d: want one record", len(ct), rs)
	}
	as, err := ecdh.P256().NewPublicKey(keyID)
	if err != nil {
		return nil, fmt.Errorf("key id is not the sender's P-256 key: %w", err)
	}
	secret, err := ua.ECDH(as)
	if err != nil {
		return nil, err
	}
	hmacSHA256 := func(key []byte, data ...[]byte) []byte {
		m := hmac.New(sha256.New, key)
		for _, d := range data {
			m.Write(d)
		}
		return m.Sum(nil)
	}
	// RFC 8291 §3.3: PRK_key = HMAC(auth_secret, ecdh_secret);
	// IKM = HMAC(PRK_key, "WebPush: info" || 0x00 || ua_public || as_public || 0x01)
	prkKey := hmacSHA256(auth, secret)
	ikm := hmacSHA256(prkKey, []byte("WebPush: info\x00"), ua.PublicKey().Bytes(), keyID, []byte{1})
	// RFC 8188 §2.2–2.3: PRK = HMAC(salt, IKM); CEK and NONCE are the
	// first 16 and 12 bytes of HMAC(PRK, info || 0x01).
	prk := hmacSHA256(salt, ikm)
	cek := hmacSHA256(prk, []byte("Content-Encoding: aes128gcm\x00\x01"))[:16]
	nonce := hmacSHA256(prk, []byte("Content-Encoding: nonce\x00\x01"))[:12]
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, fmt.Errorf("does not decrypt: %w", err)
	}
	// Padding: zeros after the delimiter, 0x02 for the last record.
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 || plain[i] != 2 {
		return nil, errors.New("no last-record delimiter (0x02)")
	}
	return plain[:i], nil
}
