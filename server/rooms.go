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

// Join adds uid to a room (server-managed membership), in the room's app:
// srv.Join(Room("lobby"), "alice") in the default app,
// srv.Join(Room("lobby").In("shop"), "alice") in app shop. Membership is
// by user: every connection of the user receives the room's pushes. It
// fails with ErrBadTarget for a target that is not a room, ErrUnknownApp,
// or an error matching pack.ErrBadName for a room or uid that is not a
// valid name.
func (srv *Server) Join(room Target, uid string) error {
	a, err := srv.roomArgs(room, uid)
	if err == nil {
		srv.hub.join(scope(a, room.Room), scope(a, uid))
	}
	return err
}

// Leave removes uid from a room; errors as Join.
func (srv *Server) Leave(room Target, uid string) error {
	a, err := srv.roomArgs(room, uid)
	if err == nil {
		srv.hub.leave(scope(a, room.Room), scope(a, uid))
	}
	return err
}

// roomArgs checks a membership change's room target and uid.
func (srv *Server) roomArgs(room Target, uid string) (*appState, error) {
	a, err := srv.roomOf(room)
	if err != nil {
		return nil, err
	}
	return a, checkName("uid", uid)
}

// roomOf checks that t is one room and returns its app.
func (srv *Server) roomOf(t Target) (*appState, error) {
	if t.Room == "" || !t.valid() {
		return nil, ErrBadTarget
	}
	a := srv.app(t.App)
	if a == nil {
		return nil, ErrUnknownApp
	}
	return a, checkName("room", t.Room)
}

// Members returns the uids in a room (Room(name), In(app) for another
// app); none for a target that Join would refuse.
func (srv *Server) Members(room Target) []string {
	a, err := srv.roomOf(room)
	if err != nil {
		return nil
	}
	keys := srv.hub.members(scope(a, room.Room))
	uids := make([]string, len(keys))
	for i, k := range keys {
		uids[i] = unscope(k)
	}
	return uids
}
