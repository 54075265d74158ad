package server

// Online reports whether a user of the default app has a connection on this
// node (or, with a cluster Bus, on any node). A uid that is not a valid
// name is never online.
func (srv *Server) Online(uid string) bool { return srv.OnlineApp("", uid) }

// OnlineApp reports whether uid of app is connected (here, or anywhere in
// the cluster).
func (srv *Server) OnlineApp(app, uid string) bool {
	a := srv.app(app)
	if a == nil || checkName("uid", uid) != nil {
		return false
	}
	key := scope(a, uid)
	return srv.hub.online(key) || (srv.link != nil && srv.link.bus.Online(key))
}
