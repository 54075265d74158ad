package server

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
)

// AuthInfo is the JSON body of /auth/success: the session facts a client
// tunes itself from (docs/protocol.md §10.3).
type AuthInfo = pack.AuthInfo

// startAuth hands the token to the authenticator on a goroutine of its own
// (it may call a webhook); frames that arrive meanwhile wait in the decoder.
func (s *Session) startAuth(m *pack.Message) {
	if v := m.Get(pack.MetaVersion); v != "" && v != pack.ProtocolVersion {
		s.srv.metrics.auths.WithLabelValues("failed").Inc()
		s.closeFrame(pack.URIAuthFailed, pack.CodeUnsupportedVersion, "protocol version "+v+" is not served")
		return
	}
	app := s.srv.app(m.Get(pack.MetaApp))
	if app == nil {
		s.srv.metrics.auths.WithLabelValues("failed").Inc()
		s.closeFrame(pack.URIAuthFailed, pack.CodeAuthFailed, "unknown app")
		return
	}
	device := m.Get(pack.MetaDevice)
	if device != "" {
		if err := checkName("device id", device); err != nil {
			s.srv.metrics.auths.WithLabelValues("failed").Inc()
			s.closeFrame(pack.URIAuthFailed, pack.CodeBadRequest, err.Error())
			return
		}
	}
	s.app = app
	s.state.Store(stateAuthing)
	l := login{device: device, acks: m.Get(pack.MetaAcks) == "1"}
	if r := m.Get(pack.MetaResume); r != "" {
		n, err := strconv.ParseInt(r, 10, 64)
		if err != nil || r[0] < '0' || r[0] > '9' { // digits only: no sign
			s.srv.metrics.auths.WithLabelValues("failed").Inc()
			s.closeFrame(pack.URIAuthFailed, pack.CodeBadRequest, "resume must be a decimal seq >= 0")
			return
		}
		l.resume, l.hasResume = n, true
	}
	token := plog.Secret(m.Body)
	if isLocal(app.Authenticator) && s.srv.storeLocal {
		// no I/O (the login's replay reads the store too): authenticate
		// right here on the read path; the caller's drain loop goes on with
		// the frames behind the auth frame
		uid, err := s.srv.authenticate(s, token)
		s.finishAuth(uid, err, l)
		return
	}
	if !s.srv.loginLimit.enter() {
		s.srv.metrics.auths.WithLabelValues("busy").Inc()
		s.closeFrame(pack.URIAuthFailed, pack.CodeInternal, "too many logins in progress; retry later")
		return
	}
	s.srv.authWG.Add(1)
	go s.srv.loginLimit.run(func() {
		defer s.srv.authWG.Done()
		defer s.recoverInput() // a panicking authenticator or store closes this connection only
		if s.closed.Load() {
			return // closed while waiting for a slot (e.g. its auth timeout)
		}
		uid, err := s.srv.authenticate(s, token)
		s.inMu.Lock()
		defer s.inMu.Unlock()
		if s.closed.Load() {
			return
		}
		if s.finishAuth(uid, err, l) {
			s.drain() // frames that arrived during auth
		}
	})
}

// login is what an auth frame asked for besides the token.
type login struct {
	device    string
	acks      bool
	resume    int64
	hasResume bool
}

// finishAuth completes a login with the authenticator's answer; inMu is
// held. It reports whether the session is now online.
func (s *Session) finishAuth(uid string, err error, l login) bool {
	if err != nil {
		code, reason := pack.CodeAuthFailed, "invalid credentials"
		var ce *pack.CodeError
		switch {
		case errors.As(err, &ce) && !ce.Code.Reconnect():
			code, reason = ce.Code, ce.Reason
		case errors.Is(err, pack.CodeAuthFailed):
		default:
			code, reason = pack.CodeInternal, "authentication unavailable, retry later"
			s.srv.log.Error("authenticator failed", "conn", s.id, "err", err)
		}
		s.srv.metrics.auths.WithLabelValues("failed").Inc()
		s.srv.log.Info("auth failed", "conn", s.id, "remote", s.tr.RemoteAddr(), "code", int(code))
		s.closeFrame(pack.URIAuthFailed, code, reason)
		return false
	}
	s.uid, s.device, s.acks = scope(s.app, uid), l.device, l.acks
	s.dec.SetLimit(s.srv.cfg.MaxFrame)
	s.state.Store(stateApp)
	s.srv.leavePreauth(s)
	s.srv.metrics.auths.WithLabelValues("ok").Inc()
	b := s.srv.getBatch()
	s.srv.online(s, b, l.resume, l.hasResume) // sends /auth/success first
	s.srv.putBatch(b)
	s.srv.log.Debug("app online", "conn", s.id, "uid", uid, "device", l.device)
	return true
}

func (srv *Server) authenticate(s *Session, token plog.Secret) (string, error) {
	a := s.app.Authenticator
	if a == nil {
		return "", &pack.CodeError{Code: pack.CodeAuthFailed, Reason: "no authenticator configured"}
	}
	ctx := srv.baseCtx
	if !isLocal(a) { // one doing I/O is bounded
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(srv.baseCtx, srv.cfg.AuthTimeout)
		defer cancel()
	}
	uid, err := a.Authenticate(ctx, token.Reveal(), s.tr.RemoteAddr())
	if err == nil {
		// Whatever the authenticator (the embedder's, a webhook's answer, a
		// JWT's sub), the uid obeys the node's one rule (pack.ValidName):
		// one holding the app key separator would be another app's user.
		// The login is refused (4001: the same credentials fail again).
		switch nerr := checkName("uid", uid); {
		case uid == "":
			err = &pack.CodeError{Code: pack.CodeAuthFailed, Reason: "empty uid"}
		case nerr != nil:
			srv.log.Warn("authenticator returned an invalid uid", "conn", s.id, "app", s.App(), "err", nerr)
			err = &pack.CodeError{Code: pack.CodeAuthFailed, Reason: "invalid uid from the authenticator: " + nerr.Error()}
		}
	}
	return uid, err
}

// innerAuth checks a push client's secret in constant time.
func (s *Session) innerAuth(b *batch, m *pack.Message) bool {
	remote := addrString(s.tr.RemoteAddr())
	if s.srv.throttle.blocked(remote) {
		s.srv.metrics.auths.WithLabelValues("inner_throttled").Inc()
		s.srv.metrics.rateLimited.WithLabelValues("secret_failures").Inc()
		s.closeFrame(pack.URIAuthFailed, pack.CodeRateLimited, "too many wrong secrets from this address; retry later")
		return false
	}
	app, ok := s.srv.appBySecret(m.Body)
	if !ok || !s.srv.innerAllowed(s) {
		s.srv.throttle.failed(remote)
		s.srv.metrics.auths.WithLabelValues("inner_failed").Inc()
		s.srv.log.Warn("push client auth failed", "conn", s.id, "remote", s.tr.RemoteAddr())
		s.closeFrame(pack.URIAuthFailed, pack.CodeAuthFailed, "invalid inner secret")
		return false
	}
	s.app = app
	s.dec.SetLimit(s.srv.cfg.MaxFrame)
	s.state.Store(stateInner)
	s.srv.leavePreauth(s)
	s.srv.metrics.auths.WithLabelValues("inner_ok").Inc()
	s.sendMsg(b, s.srv.authSuccess(s, nil))
	return true
}

// authSuccess is the /auth/success frame for s; resume, when not nil, is
// the seq the login's replay starts after (§12).
func (srv *Server) authSuccess(s *Session, resume *int64) *pack.Message {
	info := AuthInfo{
		UID:         s.UID(),
		App:         s.App(),
		Conn:        strconv.FormatUint(s.id, 10),
		Node:        srv.nodeID,
		HeartbeatMS: srv.cfg.HeartbeatInterval.Milliseconds(),
		TimeoutMS:   srv.cfg.HeartbeatTimeout.Milliseconds(),
		MaxFrame:    srv.cfg.MaxFrame,
		Acks:        s.acks,
		Drain:       true, // Shutdown answers what it executed before 3000 (drainClose)
		Resume:      resume,
	}
	if s.uid != "" { // apps only: push clients have no background
		info.BackgroundHeartbeatMS = srv.cfg.BackgroundHeartbeatInterval.Milliseconds()
		info.BackgroundTimeoutMS = srv.cfg.BackgroundHeartbeatTimeout.Milliseconds()
	}
	body, err := pack.AppendAuthInfo(make([]byte, 0, 256), &info)
	if err != nil { // a uid that is not UTF-8: encoding/json writes U+FFFD for it
		body, _ = json.Marshal(info)
	}
	return &pack.Message{URI: pack.URIAuthSuccess, Body: body}
}
