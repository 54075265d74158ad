package webpush

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"syscall"

	"github.com/plexpush/plex/vendorpush/internal/h2"
)

// errPrivateAddress: the endpoint's host resolved to an address that is
// not public, and private addresses are not allowed.
var errPrivateAddress = errors.New("webpush: endpoint resolves to a loopback, private or link-local address")

// NewHTTPClient returns the client a Client uses when Config.HTTPClient is
// nil: HTTP/2 or HTTP/1.1 over TLS 1.2 or later (tlsConf, cloned; nil: the
// system roots), redirects never followed, and, unless allowPrivate, a
// dialer that refuses loopback, private, link-local, CGNAT, multicast and
// unspecified addresses.
//
// The guard is there because the endpoint comes from the browser, that
// is from any logged-in user: without it a user could register
// "https://10.0.0.5:8500/…" and have the node POST to a service on its
// internal network. It checks the address actually dialled, after DNS, so
// a public name pointing inward is refused too; with an HTTPS proxy from
// the environment, the proxy's address is the one checked. A self-hosted
// push service on a private network needs allowPrivate.
//
// The rest is the APNs and FCM clients' (h2.NewClient): 10 s to dial and
// handshake, idle connections kept 10 minutes (browsers of one vendor
// share its push service, so one connection carries most pushes).
func NewHTTPClient(tlsConf *tls.Config, allowPrivate bool) *http.Client {
	o := h2.Options{AllowHTTP1: true}
	if !allowPrivate {
		o.Control = refusePrivate
	}
	return h2.NewClientWith(tlsConf, o)
}

// refusePrivate is a net.Dialer Control: it runs for each address tried.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", errPrivateAddress, address)
	}
	if !public(ap.Addr()) {
		return fmt.Errorf("%w (%s)", errPrivateAddress, ap.Addr())
	}
	return nil
}

// cgnat is the shared address space of RFC 6598, private in practice.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

func public(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsGlobalUnicast() && !a.IsPrivate() && !cgnat.Contains(a)
}
