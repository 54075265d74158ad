package client

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/plexpush/plex/pack"
)

// Heartbeat and liveness, for both PlexClient and Conn (one place):
//
//   - Liveness is any inbound frame. A connection that received nothing
//     for the timeout the node announced (timeout_ms) is dead: it is
//     closed and redialled. This also catches half-open sockets.
//   - A connection that wrote nothing for the interval the node announced
//     (heartbeat_ms) writes /heartbeat. The node echoes it, so an idle but
//     healthy connection receives a frame every interval, well within the
//     timeout (the node's default timeout is 2.5 intervals).
//   - Reconnects wait with Backoff; a 4xxx code on /auth/failed or
//     /disconnect stops reconnecting (terminal), a 3xxx code or a network
//     error reconnects.

// Defaults for nodes whose /auth/success carries no session facts (the
// original plex sent none): the protocol's defaults.
const (
	defaultHeartbeat = 30 * time.Second
	defaultTimeout   = 75 * time.Second
	// minHeartbeat keeps a misconfigured node from making clients spin.
	minHeartbeat = 10 * time.Millisecond
)

// sessionInfo is the JSON body of /auth/success (pack.AuthInfo): the
// session facts a client tunes itself from, with the client's defaults for
// what a node left out.
type sessionInfo struct{ pack.AuthInfo }

// parseSession reads /auth/success's body. An original node's body is not
// JSON: the defaults apply.
func parseSession(body []byte) sessionInfo {
	var s sessionInfo
	if len(body) > 0 && body[0] == '{' {
		_ = json.Unmarshal(body, &s.AuthInfo)
	}
	return s
}

// heartbeat is how often an idle connection writes /heartbeat.
func (s sessionInfo) heartbeat() time.Duration {
	if s.HeartbeatMS <= 0 {
		return defaultHeartbeat
	}
	return max(time.Duration(s.HeartbeatMS)*time.Millisecond, minHeartbeat)
}

// timeout is how long a connection may receive nothing before it is dead.
func (s sessionInfo) timeout() time.Duration {
	hb := s.heartbeat()
	if s.TimeoutMS <= 0 {
		if s.HeartbeatMS <= 0 {
			return defaultTimeout
		}
		return hb * 5 / 2
	}
	return max(time.Duration(s.TimeoutMS)*time.Millisecond, hb+hb/2)
}

// frameLimit is the largest frame body the node accepts after auth.
func (s sessionInfo) frameLimit() int {
	if s.MaxFrame <= 0 {
		return pack.DefaultLimit
	}
	return s.MaxFrame
}

// readLimit bounds inbound frames: the node's frame limit plus room for the
// meta a node adds to a push (persist, id, ts).
func (s sessionInfo) readLimit() int {
	return max(s.MaxFrame, pack.DefaultLimit) + 64<<10
}

// wire is what both clients choose about the byte stream.
type wire struct {
	order pack.Order
	codec pack.Codec  // never AutoCodec
	tls   *tls.Config // nil: plain TCP
}

func newWire(o pack.Order, c pack.Codec, t *tls.Config) wire {
	if c == pack.AutoCodec {
		c = pack.JSON
	}
	return wire{order: o, codec: c, tls: t}
}

// tlsFor returns w's TLS config for addr: the server name defaults to the
// address's host, as tls.Dial does.
func (w wire) tlsFor(addr string) *tls.Config {
	if w.tls.ServerName != "" || w.tls.InsecureSkipVerify {
		return w.tls
	}
	c := w.tls.Clone()
	c.ServerName, _, _ = net.SplitHostPort(addr)
	return c
}

// handshake dials addr, writes the auth frame and reads the node's answer,
// all within timeout (and ctx). On /auth/success it returns the connection,
// a Reader positioned after the answer, and the session facts. A refusal
// (/auth/failed, /disconnect) is returned as its *pack.CodeError.
func handshake(ctx context.Context, addr string, timeout time.Duration, w wire, auth *pack.Message) (net.Conn, *pack.Reader, sessionInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, sessionInfo{}, err
	}
	if w.tls != nil {
		tc := tls.Client(nc, w.tlsFor(addr))
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, nil, sessionInfo{}, fmt.Errorf("tls handshake with %s: %w", addr, err)
		}
		nc = tc
	}
	// Until the answer arrives, ctx bounds every read and write.
	deadline, _ := ctx.Deadline()
	_ = nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	info, r, err := exchangeAuth(nc, w, auth)
	if !stop() || err != nil {
		nc.Close()
		if err == nil || ctx.Err() != nil && !isCodeError(err) {
			err = fmt.Errorf("handshake with %s: %w", addr, context.Cause(ctx))
		}
		return nil, nil, sessionInfo{}, err
	}
	_ = nc.SetDeadline(time.Time{})
	return nc, r, info, nil
}

func exchangeAuth(nc net.Conn, w wire, auth *pack.Message) (sessionInfo, *pack.Reader, error) {
	frame, err := pack.EncodeFrame(w.order, w.codec, auth)
	if err != nil {
		return sessionInfo{}, nil, err
	}
	if _, err := nc.Write(frame); err != nil {
		return sessionInfo{}, nil, err
	}
	// The pre-auth limit is the node's too; raised once the facts are known.
	r := pack.NewReader(nc, w.order, w.codec, pack.DefaultLimit)
	for {
		var m pack.Message
		if err := r.ReadMessage(&m); err != nil {
			return sessionInfo{}, nil, err
		}
		switch m.URI {
		case pack.URIHeartbeat:
			continue
		case pack.URIAuthSuccess:
			info := parseSession(m.Body)
			r.SetLimit(info.readLimit())
			return info, r, nil
		case pack.URIAuthFailed, pack.URIDisconnect:
			return sessionInfo{}, nil, pack.ErrorOf(&m)
		default:
			return sessionInfo{}, nil, fmt.Errorf("client: unexpected %q before %s", m.URI, pack.URIAuthSuccess)
		}
	}
}

func isCodeError(err error) bool {
	var ce *pack.CodeError
	return errors.As(err, &ce)
}
