package server

import (
	"errors"
	"strconv"
	"time"

	"github.com/plexpush/plex/pack"
)

// PushRequest is the JSON body of /inner/push and of POST /plex/v1/push
// (pack.PushRequest; the original /logic/send/msg body is a subset).
type PushRequest = pack.PushRequest

func targetOf(r *PushRequest) Target {
	return Target{UID: r.UID, UIDs: r.UIDs, Room: r.Room, All: r.All, Device: r.Device}
}

func optionsOf(r *PushRequest) pushOptions {
	if r.TTLMS < 0 || r.TTLMS > MaxPushTTL.Milliseconds() {
		return pushOptions{persist: r.Persist, badTTL: true} // validatePush refuses it (no wrap to a short TTL)
	}
	o := pushOptions{persist: r.Persist, ttl: time.Duration(r.TTLMS) * time.Millisecond}
	switch {
	case r.AckTimeoutMS < 0 || r.AckTimeoutMS > MaxPushTTL.Milliseconds():
		o.ackBy = -1 // validatePush refuses it
	default:
		o.ackBy = time.Duration(r.AckTimeoutMS) * time.Millisecond
	}
	return o
}

func messageOf(r *PushRequest) pack.Message {
	return pack.Message{URI: r.URI, Body: []byte(r.Body), Meta: r.Meta}
}

// handleInner runs a push client's frame. Pushes queue on b; the read path
// flushes b once for everything that arrived in one read, which is what
// coalesces pipelined pushes into one writev per target connection.
func (srv *Server) handleInner(s *Session, b *batch, m *pack.Message) bool {
	switch m.URI {
	case pack.URIHeartbeat:
		b.add(s, srv.heartbeatFrame(s.wireCodec()))
	case pack.URILegacyPush:
		// The original fire-and-forget form: no reply, so a bad request
		// can only be logged and counted (use /inner/push to get outcomes).
		var req PushRequest
		if err := pack.DecodePushRequest(m.Body, &req); err != nil || req.UID == "" {
			srv.metrics.pushes.WithLabelValues("rejected").Inc()
			srv.metrics.legacyRefused.Inc()
			srv.log.Warn("bad legacy push", "conn", s.id, "err", err)
			return true
		}
		end := srv.pushBegun(s)
		srv.pushAsync(srv.baseCtx, b, User(req.UID).In(s.App()), messageOf(&req), pushOptions{}, func(_ *batch, _ Outcome, err error) {
			if err != nil {
				srv.metrics.legacyRefused.Inc()
				srv.log.Warn("legacy push refused", "conn", s.id, "uid", req.UID, "uri", req.URI, "err", err)
			}
			end()
		})
	case pack.URIPush:
		var req PushRequest
		if err := pack.DecodePushRequest(m.Body, &req); err != nil {
			s.replyError(b, m.Seq, pack.CodeBadRequest, "push body: "+err.Error())
			return true
		}
		seq, end := m.Seq, srv.pushBegun(s)
		// answered when done: at once, or once the store acknowledged a
		// persistent push (pipelined: later requests do not wait for it)
		srv.pushAsync(srv.baseCtx, b, targetOf(&req).In(s.App()), messageOf(&req), optionsOf(&req), func(b *batch, out Outcome, err error) {
			if err != nil {
				s.replyError(b, seq, pushErrorCode(err), err.Error())
			} else {
				s.sendMsg(b, &pack.Message{Seq: seq, URI: pack.URIReply, Body: pack.AppendOutcome(nil, &out)})
			}
			end()
		})
	case pack.URIInnerAuth, pack.URIAuth:
		s.replyError(b, m.Seq, pack.CodeBadRequest, "already authenticated")
	default:
		s.replyError(b, m.Seq, pack.CodeBadRequest, "unknown uri "+strconv.Quote(m.URI))
	}
	return true
}

// pushErrorCode is the code answering a push that failed with err. 3005
// promises that nothing was stored (retrying is safe); an error that may
// have stored the push (ErrOutcomeUnknown, from the Store) gets 3008 and
// is checked first, so that no other match can hide it.
func pushErrorCode(err error) pack.Code {
	is := func(targets ...error) bool {
		for _, t := range targets {
			if errors.Is(err, t) {
				return true
			}
		}
		return false
	}
	switch {
	case is(ErrOutcomeUnknown):
		return pack.CodeOutcomeUnknown
	case is(ErrBadTarget, ErrNoURI, ErrReservedURI, ErrBodyTooLarge, ErrNotPersistable, ErrBadTTL, ErrBadAckTimeout, pack.ErrInvalidUTF8):
		return pack.CodeBadRequest
	case is(ErrRateLimited):
		return pack.CodeRateLimited
	case is(ErrUnknownApp):
		return pack.CodeNotFound
	}
	return pack.CodeInternal // the Store said nothing was stored
}
