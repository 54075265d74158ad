package server

// Stats is a snapshot of the node's load.
type Stats struct {
	Node        string `json:"node"`
	Addr        string `json:"addr"`
	Connections int    `json:"connections"`
	Users       int    `json:"users"`
	// Version is what the node's embedder says it runs (Config.Version;
	// plexd: its module version and VCS revision), "" when unset.
	Version string `json:"version,omitempty"`
}

// Stats returns the node's current counts.
func (srv *Server) Stats() Stats {
	users, conns := srv.hub.counts()
	_ = conns
	return Stats{Node: srv.nodeID, Addr: srv.AdvertiseAddr(), Connections: int(srv.conns.Load()), Users: users, Version: srv.cfg.Version}
}
