package server

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gobwas/ws"
	"github.com/lesismal/nbio"

	"github.com/plexpush/plex/pack"
)

// WebSocketPath is where Handler serves the WebSocket transport (unless
// Config.DisableWebSocket): one plex message per WebSocket message, text
// for JSON and binary for protobuf, with the same handshake, heartbeat,
// limits, addressing, acks and close codes as TCP (docs/protocol.md §19).
const WebSocketPath = "/plex/v1/ws"

// Why github.com/gobwas/ws: it gives the WebSocket handshake and frame
// primitives (header parsing and checks, unmasking, close payloads)
// without goroutines or buffers of its own, so an upgraded socket joins
// the node's event loop like a TCP connection and an idle WebSocket costs
// no goroutine and no buffer (docs/benchmarks.md, ## WebSocket). The two
// alternatives measured worse: github.com/coder/websocket reads with a
// goroutine per connection (~17 KiB per idle connection against ~1 KiB),
// and nbio's own nbhttp/websocket starts goroutines when it is imported
// (its package-level DefaultEngine) and fixes the message limit per
// upgrader, not per connection.
//
// A hijacked socket that cannot join the event loop (a TLS connection of
// the embedder's own https server) gets one reader goroutine and an
// on-demand writer instead (wsconn.go), like the TLS listener.

// wsEndpoint answers GET /plex/v1/ws.
type wsEndpoint struct {
	srv *Server
	up  ws.HTTPUpgrader
}

func (srv *Server) newWSEndpoint() *wsEndpoint {
	// No subprotocol and no extension (permessage-deflate would cost a
	// compressor per connection and defeat the shared broadcast frames).
	return &wsEndpoint{srv: srv, up: ws.HTTPUpgrader{Timeout: 5 * time.Second}}
}

func (e *wsEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	srv := e.srv
	if srv.isClosing() {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	if !srv.originAllowed(r) {
		srv.metrics.refused.WithLabelValues("origin").Inc()
		srv.log.Warn("websocket origin refused", "origin", r.Header.Get("Origin"), "remote", r.RemoteAddr)
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	raw, rw, _, err := e.up.Upgrade(r, w)
	if err != nil {
		// Upgrade has answered with an HTTP error on the hijacked socket.
		srv.log.Debug("websocket handshake failed", "remote", r.RemoteAddr, "err", err)
		if raw != nil {
			raw.Close()
		}
		return
	}
	if rw.Reader.Buffered() > 0 {
		// A client must wait for the handshake's answer (RFC 6455 §4.1);
		// bytes already read past the request cannot be handed to the loop.
		srv.refuseWS(raw, pack.CodeBadFrame)
		return
	}
	srv.acceptWS(raw)
}

// acceptWS admits or refuses an upgraded connection: the same checks and
// the same session as a TCP accept (listener.go), on a WebSocket transport.
func (srv *Server) acceptWS(raw net.Conn) {
	if c := srv.admit(raw.RemoteAddr(), false); c != 0 {
		srv.refuseWS(raw, c)
		return
	}
	s := srv.newSession(false)
	s.preauth = srv.preauth != nil // admit counted it (before s is published)
	t := &wsConn{s: s}
	s.tr = t
	switch raw.(type) {
	case *net.TCPConn, *net.UnixConn:
		tuneSocket(raw, srv.cfg.WriteTimeout)
		nb, err := nbio.NBConn(raw) // dups the fd into a non-blocking conn; closes raw
		if err != nil {
			srv.log.Error("event loop: adopt websocket", "err", err)
			srv.preauth.release(s, raw.RemoteAddr())
			raw.Close()
			return
		}
		t.nb = nb
	default:
		t.bl = newWSBlocking(raw, srv.cfg.WriteQueueBytes, srv.cfg.WriteTimeout)
	}
	// Publish the initialised session (see accept); the poller's first
	// access is phase.Load.
	s.state.Store(stateNew)
	t.phase.Store(wsOpen)
	if !srv.register(s) {
		srv.leavePreauth(s)
		if t.nb != nil {
			t.nb.Close() // on no poller yet: closing here is safe
		} else {
			t.closeSocket()
		}
		return
	}
	if t.nb != nil {
		t.nb.SetSession(t)
		srv.pollers.admit(t.nb)
		if _, err := srv.engine.AddConn(t.nb); err != nil {
			// nbio closed it and ran OnClose, which unregistered s
			srv.log.Error("event loop: add websocket", "err", err)
			return
		}
	} else if !srv.goLoop(t.readLoop) {
		t.closeSocket()
		srv.closed(s, ErrServerClosed)
		return
	}
	srv.wheel.add(s, time.Unix(0, s.accepted).Add(min(srv.cfg.AuthTimeout, srv.cfg.HeartbeatTimeout)))
}

// goLoop runs fn on a goroutine that Shutdown waits for, unless the
// server is closing.
func (srv *Server) goLoop(fn func()) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closing {
		return false
	}
	srv.loops.Go(fn)
	return true
}

// refuseWS tells an upgraded connection why it is refused, as refuse does
// for TCP: /disconnect with the code, then a close frame with the code as
// its status (best effort, not read from).
func (srv *Server) refuseWS(raw net.Conn, c pack.Code) {
	codec := srv.cfg.Codec
	if codec == pack.AutoCodec {
		codec = pack.JSON
	}
	m := pack.ErrorMessage(pack.URIDisconnect, 0, c, "")
	if body, err := codec.Append(nil, &m); err == nil {
		frame := appendWSHeader(nil, wsOpcode(codec), len(body))
		frame = append(frame, body...)
		frame = append(frame, wsCloseFrame(c)...)
		_ = raw.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		_, _ = raw.Write(frame)
	}
	raw.Close()
}

// originAllowed checks the Origin of an upgrade (Config.WebSocketOrigins).
func (srv *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser: an Origin check protects browser users only
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) && srv.ownHost(r.Host) {
		return true
	}
	host := strings.ToLower(u.Host)
	for _, p := range srv.cfg.WebSocketOrigins {
		switch {
		case p == "*":
			return true
		case strings.Contains(p, "://"):
			if strings.EqualFold(strings.TrimSuffix(p, "/"), origin) {
				return true
			}
		default:
			if ok, _ := path.Match(strings.ToLower(p), host); ok {
				return true
			}
		}
	}
	return false
}

// ownHost reports whether a request's Host names this node, so that a
// page whose origin has that host is the node's own (same origin). Host
// alone is not enough: with DNS rebinding, attacker.example resolves to
// the node and the attacker's page is "same origin" with Host
// attacker.example. The node's names are IP literals (a browser reaches
// them only by that address, never by a name an attacker controls),
// localhost and *.localhost (browsers resolve them to loopback
// themselves), and the host of AdvertiseAddr; others are allowed through
// WebSocketOrigins.
func (srv *Server) ownHost(hostport string) bool {
	h := hostport
	if hh, _, err := net.SplitHostPort(hostport); err == nil {
		h = hh
	}
	h = strings.ToLower(strings.TrimSuffix(strings.Trim(h, "[]"), "."))
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	if adv, _, err := net.SplitHostPort(srv.cfg.AdvertiseAddr); err == nil && strings.EqualFold(adv, h) {
		return true
	}
	return false
}

// isWebSocket reports whether s came in over WebSocket.
func isWebSocket(s *Session) bool {
	_, ok := s.tr.(*wsConn)
	return ok
}
