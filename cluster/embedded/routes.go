package embedded

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// Peer is what a cluster member's route listener says about itself before
// any credentials are shown: the INFO line nats-server sends to whoever
// connects to its route port.
type Peer struct {
	ID          string `json:"server_id"`   // random per process start
	Name        string `json:"server_name"` // Config.Name: stable across restarts
	Cluster     string `json:"cluster"`     // Config.ClusterName
	TLSRequired bool   `json:"tls_required"`
	// Addr is the address dialled (host resolved): what nats-server's
	// logs name the peer by on routes to it (RouteRefusal.Remote).
	Addr string `json:"-"`
}

// ProbePeer connects to a route listener (host:port), reads its INFO and
// hangs up before authenticating, so the peer forms no route (it logs a
// closed connection at info level). tc is this member's ClusterTLS: nil
// for plain routes; else ProbePeer first completes the TLS handshake, as
// nats-server does on routes before anything else, which also checks the
// peer's certificate and the peer's verdict on this member's (returned as
// a *TLSError). A peer that waits for TLS while tc is nil sends nothing
// and closes: ErrNoInfo. ctx bounds it all.
func ProbePeer(ctx context.Context, addr string, tc *tls.Config) (Peer, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return Peer{}, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	var r io.Reader = c
	if tc != nil {
		tc = tc.Clone()
		if tc.ServerName == "" {
			tc.ServerName, _, _ = net.SplitHostPort(addr)
		}
		tconn := tls.Client(c, tc)
		if err := tconn.HandshakeContext(ctx); err != nil {
			var plain tls.RecordHeaderError
			if errors.As(err, &plain) {
				err = errors.New("the peer's routes do not use TLS")
			}
			return Peer{}, &TLSError{Addr: addr, Err: err}
		}
		r = tconn
	}
	// INFO is one line; 64 KiB bounds a peer that is something else
	line, err := bufio.NewReaderSize(io.LimitReader(r, 64<<10), 4096).ReadString('\n')
	switch {
	case err != nil && tc != nil:
		// TLS 1.3: the peer's refusal of this member's certificate
		// arrives after the handshake, as an alert on the first read
		return Peer{}, &TLSError{Addr: addr, Err: err}
	case err != nil:
		return Peer{}, fmt.Errorf("%w from %s (%v)", ErrNoInfo, addr, err)
	}
	js, ok := strings.CutPrefix(strings.TrimSpace(line), "INFO ")
	var p Peer
	if !ok || json.Unmarshal([]byte(js), &p) != nil || p.ID == "" {
		return Peer{}, fmt.Errorf("embedded: %s is not a NATS route listener", addr)
	}
	p.Addr = c.RemoteAddr().String()
	return p, nil
}

// ErrNoInfo: a route listener sent no INFO in clear text; it waits for a
// TLS handshake (its routes use TLS), or it is not a NATS route listener.
var ErrNoInfo = errors.New("embedded: no NATS route INFO (does the peer require TLS on routes?)")

// TLSError is a route TLS handshake that failed on this side: the peer's
// certificate is not trusted, or it refused this member's.
type TLSError struct {
	Addr string
	Err  error
}

func (e *TLSError) Error() string { return "embedded: route TLS with " + e.Addr + ": " + e.Err.Error() }
func (e *TLSError) Unwrap() error { return e.Err }

// RouteRefusal is a route connection that a member refused, as the NATS
// server logged it.
type RouteRefusal struct {
	// Remote is the other side's host:port: for a route this server
	// dialled (Solicited), the peer's route address; else the peer's
	// ephemeral source address.
	Remote string
	// Solicited: this server dialled the route and the peer refused it
	// (it answered -ERR, or the TLS handshake with it failed). Else the
	// peer dialled and this server refused.
	Solicited bool
	// Reason is nats-server's text, e.g. "Authorization Violation" or
	// `Rejecting connection, cluster name "a" does not match "b"`.
	Reason string
}

// refusalLine matches nats-server's connection-scoped log lines,
// "<remote> - rid:<n> - <text>".
var refusalLine = regexp.MustCompile(`^(\S+) - rid:\d+ - (.*)$`)

// routeRefusal classifies an error line of the NATS server. nats-server
// has no callback for refused routes, only these log lines (v2.10-2.15
// wording, pinned by TestRouteRefusals), so the text is the interface.
func routeRefusal(msg string) (RouteRefusal, bool) {
	m := refusalLine.FindStringSubmatch(msg)
	if m == nil {
		return RouteRefusal{}, false
	}
	remote, text := m[1], m[2]
	switch {
	case strings.HasPrefix(text, "Route Error "):
		// the peer's -ERR on a route this server dialled
		return RouteRefusal{Remote: remote, Solicited: true, Reason: strings.Trim(strings.TrimPrefix(text, "Route Error "), "'")}, true
	case strings.Contains(text, "TLS route handshake error"):
		// either side; nats-server logs it the same way, so which one
		// is learnt from whether the remote is a configured route
		return RouteRefusal{Remote: remote, Reason: text}, true
	case strings.HasPrefix(text, "Rejecting connection"),
		strings.HasPrefix(text, "authentication error"),
		strings.HasPrefix(text, "Remote server has a duplicate name"):
		return RouteRefusal{Remote: remote, Reason: text}, true
	}
	return RouteRefusal{}, false
}

// ID returns the server's id (random per start; Peer.ID of ProbePeer).
func (s *Server) ID() string { return s.ns.ID() }

// RoutedTo reports whether a route to the server with this id is up.
func (s *Server) RoutedTo(id string) bool {
	rz, err := s.ns.Routez(&natsserver.RoutezOptions{})
	if err != nil {
		return false
	}
	for _, r := range rz.Routes {
		if r.RemoteID == id {
			return true
		}
	}
	return false
}
