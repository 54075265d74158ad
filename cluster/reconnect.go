package cluster

import (
	"net"
	"strings"

	"github.com/nats-io/nats.go"
)

// ReconnectOnServerError returns a nats.Option that keeps a connection
// through the server errors after which nats.go closes it for good, and
// with it every subscription, watcher and JetStream handle of the Cluster
// (the node would then refuse persistent pushes and stay unready until it
// restarts):
//
//   - "maximum control line exceeded", which a server sends when a client
//     line (a subject, say) is over its max_control_line, and any other
//     -ERR that nats.go does not know ("maximum payload violation", …). The
//     server closes its side after such an error; with this option nats.go
//     sees a lost connection instead, whose error names the server's, and
//     reconnects as configured (plex nodes use nats.MaxReconnects(-1)),
//     restoring its subscriptions: the Cluster carries on with the same
//     *nats.Conn.
//   - an authorization error that repeats on reconnect (credentials being
//     rotated): it sets nats.IgnoreAuthErrorAbort, so it is retried.
//
// The Cluster also refuses names too long for a subject (checkName), so
// plex itself never causes the first; this is the guard for what slips
// through (another program on the connection, a server with a lower
// max_control_line).
//
// Pass it after the options that set a dialer or an in-process server
// (nats.SetCustomDialer, nats.Dialer, nats.InProcessServer), which it
// wraps. It sees the protocol on plain TCP and in-process connections; on
// TLS and WebSocket connections the server's errors travel encrypted or
// framed, and it passes them through unchanged.
func ReconnectOnServerError() nats.Option {
	return func(o *nats.Options) error {
		o.IgnoreAuthErrorAbort = true
		if o.InProcessServer != nil {
			if _, done := o.InProcessServer.(inProcessGuard); !done {
				o.InProcessServer = inProcessGuard{o.InProcessServer}
			}
			return nil // nats.go dials nothing then
		}
		if _, done := o.CustomDialer.(*dialGuard); !done {
			o.CustomDialer = &dialGuard{o: o, next: o.CustomDialer}
		}
		return nil
	}
}

// guarded reports whether nc was made with ReconnectOnServerError. nats.go
// writes neither field after Connect, so reading them races with nothing.
func guarded(nc *nats.Conn) bool {
	if nc.Opts.InProcessServer != nil {
		_, ok := nc.Opts.InProcessServer.(inProcessGuard)
		return ok
	}
	_, ok := nc.Opts.CustomDialer.(*dialGuard)
	return ok
}

// dialGuard dials as nats.go would (the caller's CustomDialer, else its
// Dialer, else a net.Dialer with its Timeout) and guards the connection.
type dialGuard struct {
	o    *nats.Options // the options being built; read at dial time
	next nats.CustomDialer
}

func (d *dialGuard) Dial(network, address string) (net.Conn, error) {
	var c net.Conn
	var err error
	switch {
	case d.next != nil:
		c, err = d.next.Dial(network, address)
	case d.o.Dialer != nil:
		c, err = d.o.Dialer.Dial(network, address)
	default:
		c, err = (&net.Dialer{Timeout: d.o.Timeout}).Dial(network, address)
	}
	if err != nil {
		return nil, err
	}
	return &guardConn{Conn: c}, nil
}

// SkipTLSHandshake forwards the wrapped dialer's choice (nats.CustomDialer).
func (d *dialGuard) SkipTLSHandshake() bool {
	sd, ok := d.next.(interface{ SkipTLSHandshake() bool })
	return ok && sd.SkipTLSHandshake()
}

type inProcessGuard struct{ p nats.InProcessConnProvider }

func (g inProcessGuard) InProcessConn() (net.Conn, error) {
	c, err := g.p.InProcessConn()
	if err != nil {
		return nil, err
	}
	return &guardConn{Conn: c}, nil
}

// serverError ends a guarded connection's reads in place of a server error
// after which nats.go would have closed the connection for good; nats.go
// takes it for a lost connection and reconnects.
type serverError string

func (e serverError) Error() string {
	return "cluster: NATS server error " + string(e) + " (reconnecting)"
}

// guardConn follows the server → client protocol of a connection (lines,
// and the payloads MSG and HMSG announce) and replaces a final -ERR line
// by a read error. Anything it does not recognise at the start of a line
// (TLS records, a WebSocket upgrade) makes it step aside for good.
// Reads come from one goroutine at a time (nats.go's reader).
type guardConn struct {
	net.Conn
	s   protoScanner
	out []byte // filtered bytes not yet returned
	err error  // returned once out is drained
}

func (c *guardConn) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		if c.s.state == scanPass {
			return c.Conn.Read(p)
		}
		n, err := c.Conn.Read(p)
		var final error
		c.out, final = c.s.feed(c.out[:0], p[:n])
		switch {
		case final != nil:
			c.err = final
		case err != nil:
			c.err = err
		}
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

const (
	scanLineStart = iota // at the start of a protocol line
	scanLine             // in a line other than -ERR
	scanErr              // in an -ERR line, held back until its end
	scanPayload          // in a message payload (and its CRLF)
	scanPass             // not a protocol we follow: pass everything
)

// maxErrLine bounds a held -ERR line; the server's are short.
const maxErrLine = 1024

// serverOps are the lines a NATS server sends; the trailing space of MSG,
// HMSG and INFO is part of the match.
var serverOps = [...]string{"MSG ", "HMSG ", "PING", "PONG", "+OK", "INFO "}

// protoScanner is guardConn's state between reads.
type protoScanner struct {
	state  int
	op     []byte // the line's first bytes, until they name an op
	known  bool   // op is one of serverOps
	num    int64  // the value of the line's last token so far
	numOK  bool   // the last token is all digits
	tokBad bool   // the last token has a non-digit
	skip   int64  // payload bytes (and CRLF) left
	hold   []byte // the -ERR line so far
}

// feed appends to dst what in holds for nats.go. final is non-nil when in
// ended with an -ERR after which nats.go would close the connection for
// good: that line and anything after it are dropped.
func (s *protoScanner) feed(dst, in []byte) (_ []byte, final error) {
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch s.state {
		case scanPass:
			return append(dst, in[i:]...), nil
		case scanPayload:
			n := min(int64(len(in)-i), s.skip)
			dst = append(dst, in[i:i+int(n)]...)
			i += int(n) - 1
			if s.skip -= n; s.skip == 0 {
				s.state = scanLineStart
			}
			continue
		case scanLineStart:
			if c == '-' {
				s.state, s.hold = scanErr, append(s.hold[:0], c)
				continue
			}
			s.state, s.op, s.known = scanLine, s.op[:0], false
			s.num, s.numOK, s.tokBad = 0, false, false
		case scanErr:
			s.hold = append(s.hold, c)
			switch {
			case c == '\n':
				s.state = scanLineStart
				if line := strings.TrimSpace(string(s.hold)); closesForGood(line) {
					s.hold = s.hold[:0]
					return dst, serverError(strings.TrimSpace(strings.TrimPrefix(line, "-ERR")))
				}
				dst = append(dst, s.hold...)
			case len(s.hold) > maxErrLine: // not a server error we know
				s.state = scanPass
				dst = append(dst, s.hold...)
			}
			continue
		}
		// scanLine
		dst = append(dst, c)
		if !s.known && !s.classify(c) {
			s.state = scanPass
			continue
		}
		switch {
		case c == '\n':
			s.state = scanLineStart
			if s.op[0] == 'M' || s.op[0] == 'H' { // MSG, HMSG: the last token is the size
				if !s.numOK {
					s.state = scanPass
					continue
				}
				s.state, s.skip = scanPayload, s.num+2
			}
		case c == ' ' || c == '\t':
			s.num, s.numOK, s.tokBad = 0, false, false
		case c >= '0' && c <= '9' && !s.tokBad:
			if s.num = s.num*10 + int64(c-'0'); s.num > 1<<31 {
				s.state = scanPass
			}
			s.numOK = true
		case c == '\r':
		default:
			s.numOK, s.tokBad = false, true
		}
	}
	return dst, nil
}

// classify adds c to the line's first bytes; false when they cannot start
// any server op.
func (s *protoScanner) classify(c byte) bool {
	s.op = append(s.op, c)
	for _, op := range serverOps {
		if len(s.op) <= len(op) && string(s.op) == op[:len(s.op)] {
			s.known = len(s.op) == len(op)
			return true
		}
	}
	return false
}

// closesForGood reports whether nats.go would close the connection for
// good on the server's error line (nats.go processErr): every error but
// those it reconnects after, reports without closing, or handles as
// authorization errors (see IgnoreAuthErrorAbort).
func closesForGood(line string) bool {
	e := strings.ToLower(strings.Trim(strings.TrimSpace(strings.TrimPrefix(line, "-ERR")), "'"))
	switch e {
	case "stale connection", "maximum connections exceeded",
		"maximum account active connections exceeded", "unknown protocol operation":
		return false
	}
	for _, p := range []string{"permissions violation", "maximum subscriptions exceeded",
		"authorization violation", "user authentication expired", "user authentication revoked",
		"account authentication expired"} {
		if strings.HasPrefix(e, p) {
			return false
		}
	}
	return true
}
