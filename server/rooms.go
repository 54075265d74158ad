package server

import (
	"strconv"

	"github.com/plexpush/plex/pack"
)

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
