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
	return Target{UID: r.UID, UIDs: r.UIDs, Room: r.Room, All: r.All}
}

func optionsOf(r *PushRequest) pushOptions {
	return pushOptions{persist: r.Persist, ttl: time.Duration(r.TTLMS) * time.Millisecond}
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
				s.sendMsg(b, &pack.Message{Seq: seq, URI: pack.URIReply, Body: out.appendJSON(nil)})
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
	case is(ErrBadTarget, ErrNoURI, ErrReservedURI, ErrBodyTooLarge, ErrNotPersistable, pack.ErrInvalidUTF8):
		return pack.CodeBadRequest
	case is(ErrRateLimited):
		return pack.CodeRateLimited
	case is(ErrUnknownApp):
		return pack.CodeNotFound
	}
	return pack.CodeInternal // the Store said nothing was stored
}

// clientRoom handles an app's /room/join and /room/leave.
func (srv *Server) clientRoom(s *Session, b *batch, m *pack.Message) {
	room := string(m.Body)
	join := m.URI == pack.URIRoomJoin
	auth := srv.cfg.RoomAuthorizer
	if err := checkName("room", room); err != nil { // before the authorizer: it sees valid names only
		s.replyError(b, m.Seq, pack.CodeBadRequest, err.Error())
		return
	}
	switch {
	case auth == nil || !auth(s, room, join):
		s.replyError(b, m.Seq, pack.CodeForbidden, "not allowed to change room "+strconv.Quote(room))
	default:
		if join {
			srv.hub.join(scope(s.app, room), s.uid)
		} else {
			srv.hub.leave(scope(s.app, room), s.uid)
		}
		s.sendMsg(b, &pack.Message{Seq: m.Seq, URI: pack.URIReply, Body: []byte(`{"ok":true}`)})
	}
}

// Join adds a user of the default app to a room (server-managed
// membership). Membership is by user: every connection of the user
// receives the room's pushes. JoinApp does the same in another app.
// A room or uid that is not a valid name (pack.ValidName) is refused with
// an error matching pack.ErrBadName.
func (srv *Server) Join(room, uid string) error { return srv.JoinApp("", room, uid) }

// Leave removes a user of the default app from a room.
func (srv *Server) Leave(room, uid string) error { return srv.LeaveApp("", room, uid) }

// Members returns the members of a room of the default app (none for a
// room that is not a valid name).
func (srv *Server) Members(room string) []string { return srv.MembersApp("", room) }

// Online reports whether a user of the default app has a connection on this
// node (or, with a cluster Bus, on any node). A uid that is not a valid
// name is never online.
func (srv *Server) Online(uid string) bool { return srv.OnlineApp("", uid) }

// JoinApp adds uid to room within app. It fails with ErrUnknownApp, or an
// error matching pack.ErrBadName.
func (srv *Server) JoinApp(app, room, uid string) error {
	a, err := srv.roomArgs(app, room, uid)
	if err == nil {
		srv.hub.join(scope(a, room), scope(a, uid))
	}
	return err
}

// LeaveApp removes uid from room within app; errors as JoinApp.
func (srv *Server) LeaveApp(app, room, uid string) error {
	a, err := srv.roomArgs(app, room, uid)
	if err == nil {
		srv.hub.leave(scope(a, room), scope(a, uid))
	}
	return err
}

// roomArgs checks a membership change's app, room and uid.
func (srv *Server) roomArgs(app, room, uid string) (*appState, error) {
	a := srv.app(app)
	if a == nil {
		return nil, ErrUnknownApp
	}
	if err := checkName("room", room); err != nil {
		return nil, err
	}
	return a, checkName("uid", uid)
}

// MembersApp returns the uids in room within app.
func (srv *Server) MembersApp(app, room string) []string {
	a := srv.app(app)
	if a == nil || checkName("room", room) != nil {
		return nil
	}
	keys := srv.hub.members(scope(a, room))
	for i, k := range keys {
		keys[i] = unscope(k)
	}
	return keys
}

// OnlineApp reports whether uid of app is connected (here, or anywhere in
// the cluster).
func (srv *Server) OnlineApp(app, uid string) bool {
	a := srv.app(app)
	if a == nil || checkName("uid", uid) != nil {
		return false
	}
	key := scope(a, uid)
	return srv.hub.online(key) || (srv.bus != nil && srv.bus.Online(key))
}

// Stats is a snapshot of the node's load.
type Stats struct {
	Node        string `json:"node"`
	Addr        string `json:"addr"`
	Connections int    `json:"connections"`
	Users       int    `json:"users"`
}

// Stats returns the node's current counts.
func (srv *Server) Stats() Stats {
	users, conns := srv.hub.counts()
	_ = conns
	return Stats{Node: srv.nodeID, Addr: srv.AdvertiseAddr(), Connections: int(srv.conns.Load()), Users: users}
}
