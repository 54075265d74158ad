// Package h2 makes the HTTP/2 clients the vendor senders use by default and
// the helpers they share to read replies without leaking device tokens.
package h2

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"
)

// MaxReply caps the reply body a sender reads: vendor replies are a few
// hundred bytes of JSON, so more is a broken or hostile endpoint.
const MaxReply = 64 << 10

// NewClient returns a client that speaks only HTTP/2 over TLS (APNs refuses
// HTTP/1.1; FCM is fastest over one multiplexed connection). tlsConf may be
// nil (system roots, TLS 1.2 or later); a given one is cloned.
//
// The numbers: a 10 s dial and handshake budget fits a slow mobile-carrier
// network path to the vendor; a PING after 30 s without a frame finds a
// connection that died silently (NAT, load balancer) before a push waits on
// it; idle connections are kept 10 minutes because both vendors ask senders
// to reuse connections rather than reconnect per push.
func NewClient(tlsConf *tls.Config) *http.Client { return NewClientWith(tlsConf, Options{}) }

// Options are what a sender's client may change of NewClient's.
type Options struct {
	// AllowHTTP1 lets the client fall back to HTTP/1.1 when the server
	// offers no HTTP/2 (a Web Push service may not); HTTP/2 is still
	// preferred.
	AllowHTTP1 bool
	// Control, when set, vets each address the client dials (net.Dialer's
	// Control), e.g. to refuse private addresses.
	Control func(network, address string, c syscall.RawConn) error
}

// NewClientWith is NewClient with o.
func NewClientWith(tlsConf *tls.Config, o Options) *http.Client {
	if tlsConf == nil {
		tlsConf = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		tlsConf = tlsConf.Clone()
	}
	var protos *http.Protocols
	if !o.AllowHTTP1 {
		protos = new(http.Protocols)
		protos.SetHTTP2(true)
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: o.Control}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         dialer.DialContext,
			TLSClientConfig:     tlsConf,
			TLSHandshakeTimeout: 10 * time.Second,
			ForceAttemptHTTP2:   true,
			Protocols:           protos,
			IdleConnTimeout:     10 * time.Minute,
			HTTP2: &http.HTTP2Config{
				SendPingTimeout: 30 * time.Second,
				PingTimeout:     10 * time.Second,
			},
		},
		// Redirects are never followed: a vendor endpoint does not redirect,
		// and following one would send credentials wherever it pointed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// StripURL returns err without the request URL that *url.Error puts in its
// message (an APNs URL ends with the device token), keeping what it wraps
// (context.Canceled, net errors) for errors.Is.
func StripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Drain reads what is left of a reply body, up to MaxReply, and closes it
// so that the connection can be reused.
func Drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, MaxReply))
	_ = body.Close()
}

// ReadReply reads a reply body of at most MaxReply bytes.
func ReadReply(body io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(body, MaxReply))
}
