package server

// Online reports whether a user has a connection on this node (or, with a
// cluster Bus, on any node): srv.Online(User("alice")), or
// srv.Online(User("alice").In("shop")) in app shop. A target that is not
// one user of a known app with a valid uid is never online.
func (srv *Server) Online(user Target) bool {
	if user.UID == "" || !user.valid() || checkName("uid", user.UID) != nil {
		return false
	}
	a := srv.app(user.App)
	if a == nil {
		return false
	}
	k := scope(a, user.UID)
	return srv.hub.online(k) || (srv.link != nil && srv.link.bus.Online(string(k)))
}
