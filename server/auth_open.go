package server

import (
	"fmt"
	"net"
	"strings"
)

// OpenAuthenticator is an Authenticator that takes any well-formed token as
// the user id, with no credential (auth.None): whoever reaches the node can
// be any user. Such an authenticator is refused on an address that is not
// loopback-only unless Config.AllowOpenAuth is set (ErrOpenAuth), the rule
// plexd applies to -auth none without -force.
type OpenAuthenticator interface {
	Authenticator
	Open() bool
}

// isOpen reports whether a lets anyone in as anyone (OpenAuthenticator).
func isOpen(a Authenticator) bool {
	oa, ok := a.(OpenAuthenticator)
	return ok && oa.Open()
}

// openApp returns the id of the first app with an open authenticator
// ("" is the default app), and whether there is one.
func openApp(defaultAuth Authenticator, apps []App) (string, bool) {
	if isOpen(defaultAuth) {
		return "", true
	}
	for _, a := range apps {
		if isOpen(a.Authenticator) {
			return a.ID, true
		}
	}
	return "", false
}

// checkOpenAuth refuses an open authenticator among the default one and
// apps when any of addrs, which take app logins, is not loopback-only.
// An empty address is no listener.
func checkOpenAuth(cfg *Config, apps []App, addrs ...string) error {
	if cfg.AllowOpenAuth {
		return nil
	}
	id, open := openApp(cfg.Authenticator, apps)
	if !open {
		return nil
	}
	for _, a := range addrs {
		if a == "" || loopbackAddr(a) {
			continue
		}
		if id != "" {
			return fmt.Errorf("%w (app %q, address %s)", ErrOpenAuth, id, a)
		}
		return fmt.Errorf("%w (address %s)", ErrOpenAuth, a)
	}
	return nil
}

// The guard sees every address the node takes app logins on:
// Config.Addr and Config.HTTPAddr (its WebSocket transport) when the apps
// are set (New, SetApps), and each listener given to Serve or ServeHTTP
// when it is (its address is known only then), recorded in
// Server.logins for later SetApps calls. Handler mounted on the
// embedder's own http.Server is beyond it: that address is the
// embedder's to choose.

// configLoginAddrs are the addresses ListenAndServe takes app logins on.
func configLoginAddrs(cfg *Config) []string {
	if cfg.DisableWebSocket {
		return []string{cfg.Addr}
	}
	return []string{cfg.Addr, cfg.HTTPAddr}
}

// admitLogins applies the guard to a listener that takes app logins and
// records its address. Called by Serve and ServeHTTP before serving.
func (srv *Server) admitLogins(ln net.Listener) error {
	addr := listenerAddr(ln)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	var apps []App
	for _, a := range srv.apps.Load().byID {
		apps = append(apps, a.App)
	}
	if err := checkOpenAuth(&srv.cfg, apps, addr); err != nil {
		return err
	}
	srv.logins = append(srv.logins, addr)
	return nil
}

// listenerAddr is ln's address for checkOpenAuth: "" for a Unix socket,
// which is not reachable over the network.
func listenerAddr(ln net.Listener) string {
	a := ln.Addr()
	if a == nil {
		return "unknown" // not provably loopback: guarded
	}
	if strings.HasPrefix(a.Network(), "unix") {
		return ""
	}
	return a.String()
}

// loopbackAddr reports whether host:port binds loopback interfaces only.
// An empty host (":9578") is every interface.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
