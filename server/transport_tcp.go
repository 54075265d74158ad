package server

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/lesismal/nbio"

	"github.com/plexpush/plex/pack"
)

// serve is the accept loop shared by Serve and ServeInner. Plain TCP
// connections are handed to the nbio event loop; TLS ones get a reader
// goroutine each (tlsconn.go).
func (srv *Server) serve(ln net.Listener, innerOnly bool) error {
	srv.mu.Lock()
	if srv.closing {
		srv.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	srv.listeners[ln] = innerOnly
	if !innerOnly && srv.addr == nil {
		srv.addr = ln.Addr()
	}
	srv.mu.Unlock()
	srv.log.Info("listening", "addr", ln.Addr().String(), "inner_only", innerOnly, "tls", srv.cfg.TLS != nil)

	var backoff time.Duration
	var lastLog time.Time
	for {
		nc, err := ln.Accept()
		if err != nil {
			if srv.isClosing() {
				return ErrServerClosed
			}
			if isTemporary(err) {
				// EMFILE/ENFILE and friends: wait, log at most once a
				// second, keep serving the connections we have.
				srv.metrics.acceptErrors.Inc()
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				if time.Since(lastLog) > time.Second {
					lastLog = time.Now()
					srv.log.Warn("accept failed; backing off", "err", err, "backoff", backoff)
				}
				select {
				case <-time.After(backoff):
				case <-srv.stop:
					return ErrServerClosed
				}
				continue
			}
			return err
		}
		backoff = 0
		srv.accept(nc, innerOnly)
	}
}

func isTemporary(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EINTR)
}

func (srv *Server) isClosing() bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.closing
}

// accept admits or refuses one connection.
func (srv *Server) accept(nc net.Conn, innerOnly bool) {
	if c := srv.admit(nc.RemoteAddr(), innerOnly); c != 0 {
		srv.refuse(nc, c)
		return
	}
	s := srv.newSession(innerOnly)
	s.preauth = !innerOnly && srv.preauth != nil // admit counted it (before s is published)
	now := time.Unix(0, s.accepted)
	var tt *tlsTransport
	var nb *nbio.Conn
	if srv.cfg.TLS != nil {
		tt = newTLSTransport(tls.Server(nc, srv.cfg.TLS), srv.cfg.WriteQueueBytes, srv.cfg.WriteTimeout, &srv.timers)
		s.tr = tt
	} else {
		tuneSocket(nc, srv.cfg.WriteTimeout)
		var err error
		if nb, err = nbio.NBConn(nc); err != nil { // dups the fd into a non-blocking conn; closes nc
			srv.log.Error("event loop: adopt conn", "err", err)
			srv.preauth.release(s, nc.RemoteAddr())
			nc.Close()
			return
		}
		s.tr = nb
	}
	// Publish the initialised session: the poller goroutine receives the
	// conn through epoll, which the Go memory model does not see; its first
	// access is state.Load, which pairs with this store.
	s.state.Store(stateNew)
	if !srv.register(s) {
		srv.leavePreauth(s)
		s.tr.Close()
		return
	}
	if tt != nil {
		srv.loops.Go(func() { srv.readTLS(s, tt) })
	} else {
		nb.SetSession(s)
		srv.pollers.admit(nb)
		if _, err := srv.engine.AddConn(nb); err != nil {
			// nbio closed it and ran OnClose, which unregistered s
			srv.log.Error("event loop: add conn", "err", err)
			return
		}
	}
	srv.wheel.add(s, now.Add(min(srv.cfg.AuthTimeout, srv.cfg.HeartbeatTimeout)))
}

// newSession returns a session in its first state for a connection
// accepted now, on any transport (the caller sets tr, then publishes it
// with state.Store(stateNew)).
func (srv *Server) newSession(innerOnly bool) *Session {
	s := &Session{srv: srv, id: srv.connIDs.Add(1), innerOnly: innerOnly}
	s.codec.Store(uint32(srv.cfg.Codec))
	s.accepted = time.Now().UnixNano()
	s.lastRead.Store(s.accepted)
	s.dec = *pack.NewDecoder(srv.cfg.ByteOrder, srv.cfg.AuthMaxFrame)
	s.limit = newConnLimit(&srv.cfg)
	return s
}

// admit applies Config.Filter and the connection bounds to a new
// connection of any transport: 0 admits it, else the code to refuse it
// with (counted in plex_refused_total). Connections of the push-client
// listener (Config.InnerAddr) have their own bound, so that apps, or
// connections that never authenticate, filling MaxConnections cannot
// lock push clients out.
func (srv *Server) admit(remote net.Addr, innerOnly bool) pack.Code {
	if f := srv.cfg.Filter; f != nil && !f(remote) {
		srv.metrics.refused.WithLabelValues("filter").Inc()
		return pack.CodeRefused
	}
	inner := srv.innerConns.Load()
	if innerOnly {
		if inner >= int64(srv.cfg.MaxInnerConnections) {
			srv.metrics.refused.WithLabelValues("max_inner_connections").Inc()
			return pack.CodeTooManyConnections
		}
		return 0
	}
	if max := srv.cfg.MaxConnections; max > 0 && srv.conns.Load()-inner >= int64(max) {
		srv.metrics.refused.WithLabelValues("max_connections").Inc()
		return pack.CodeTooManyConnections
	}
	if !srv.preauth.take(remote) {
		srv.metrics.refused.WithLabelValues("preauth_per_address").Inc()
		return pack.CodeTooManyConnections
	}
	return 0
}

// refuse tells a connection why it is refused (best effort, it is not
// read from) and closes it.
func (srv *Server) refuse(nc net.Conn, c pack.Code) {
	m := pack.ErrorMessage(pack.URIDisconnect, 0, c, "")
	codec := srv.cfg.Codec
	if codec == pack.AutoCodec {
		codec = pack.JSON
	}
	if frame, err := pack.EncodeFrame(srv.cfg.ByteOrder, codec, &m); err == nil {
		_ = nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		_, _ = nc.Write(frame)
	}
	nc.Close()
}

// register records s as open; false when the server is closing.
func (srv *Server) register(s *Session) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closing {
		return false
	}
	srv.sessions.add(s)
	srv.conns.Add(1)
	if s.innerOnly {
		srv.innerConns.Add(1)
	}
	srv.metrics.connections.Inc()
	return true
}

// closed is the one place a session ends, whoever closed it: unregister,
// presence transition, metrics.
func (srv *Server) closed(s *Session, err error) {
	// nbio runs it on a goroutine of its own once it closed the socket;
	// other transports may run it inside their Close or Writev, i.e. with
	// inMu or outMu held by this goroutine: take neither here.
	state := s.state.Load()
	if s.closed.Swap(true) {
		return
	}
	s.leaveBackground()
	srv.leavePreauth(s)
	code := s.finalCode()
	if code == 0 && isOverflow(err) {
		code = pack.CodeSlowConsumer
		srv.metrics.closes.WithLabelValues(codeLabel(code)).Inc()
		srv.log.Warn("slow consumer closed", "conn", s.id, "uid", s.uid, "err", err)
	}
	srv.mu.Lock()
	srv.sessions.remove(s)
	srv.mu.Unlock()
	srv.conns.Add(-1)
	srv.budget.gone(s)
	if s.innerOnly {
		srv.innerConns.Add(-1)
	}
	srv.metrics.connections.Dec()
	if state == stateApp {
		// The order lock makes removal atomic with deliveries to this uid.
		lock := srv.hub.orderLock(s.uid)
		lock.Lock()
		last, found := srv.hub.remove(s)
		lock.Unlock()
		if last && found {
			srv.hooks.offline(s.uid)
			if srv.link != nil {
				if err := srv.link.Unsubscribe(s.uid); err != nil {
					srv.log.Error("cluster unsubscribe", "uid", s.uid, "err", err)
				}
			}
		}
	}
	if state == stateInner {
		srv.offloads.Delete(s)
	}
	s.state.Store(stateClosed)
	srv.log.Debug("connection closed", "conn", s.id, "uid", s.uid, "code", int(code), "err", err)
}

// isOverflow reports nbio's write-buffer overflow (our WriteQueueBytes) or
// write timeout: both mean the peer does not read.
func isOverflow(err error) bool {
	return errors.Is(err, nbio.ErrOverflow) || errors.Is(err, syscall.ETIMEDOUT) ||
		errors.Is(err, errTLSOverflow)
}
