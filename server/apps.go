package server

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/plexpush/plex/pack"
)

// App is one product served by a node beside the default one. Apps share
// the node's sockets and nothing else: a uid is scoped by its app, so
// pushes, rooms, presence, stored messages and inner secrets of two apps
// never meet, even for equal uids.
//
// The default app is configured by Config.Authenticator, Config.InnerSecret
// and Config.MessagePolicy and needs no id anywhere: single-app deployments
// never mention apps.
type App struct {
	// ID names the app; apps announce it in meta "app" on /auth/server.
	// 1–64 bytes of [A-Za-z0-9._-]; "" is the default app and not allowed here.
	ID string
	// Authenticator checks this app's tokens (e.g. auth.JWT with the app's key).
	Authenticator Authenticator
	// InnerSecret authenticates this app's push clients (/inner/auth/server)
	// and its HTTP push API calls (Bearer). Required, and unique per node.
	InnerSecret string
	// MessagePolicy decides whether user from may message user to
	// (/message). Nil: user-to-user messaging is off for the app (4003).
	MessagePolicy func(from, to string) bool
	// PushRate limits the app's pushes per second (PushBurst at once); over
	// it a push is refused with 4029. Zero: unlimited.
	PushRate  float64
	PushBurst int
	// StoreRate limits the bytes the app's persistent pushes and /messages
	// put in the store, per second (StoreBurst at once; at least the
	// largest frame is allowed), counted once per targeted user: a push
	// over it is refused with 4029 and nothing is stored. Stored data of
	// the app then stays under StoreRate × the push TTL whoever holds its
	// inner secret or its users' tokens. Zero: unlimited.
	StoreRate  float64
	StoreBurst int
	// AckTimeout is the ack timeout of the app's persistent pushes that
	// set none (AckWithin, PushRequest.ack_timeout_ms): not acked by a
	// device within it, the push fires Config.OnUnacked. Zero: none.
	AckTimeout time.Duration
}

// ErrRateLimited: an app's push quota is exhausted (code 4029).
var ErrRateLimited = errors.New("server: push rate limit exceeded")

// ErrStoreQuota: an app's store quota (StoreRate) is exhausted; nothing
// was stored (code 4029, HTTP 429). It matches ErrRateLimited.
var ErrStoreQuota = fmt.Errorf("%w: app store quota", ErrRateLimited)

// appState is an App as the node runs it.
type appState struct {
	App
	limiter *rate.Limiter // nil: unlimited
	store   *rate.Limiter // StoreRate's bucket; nil: unlimited
}

// appTable is the node's immutable set of apps, swapped whole by SetApps.
type appTable struct {
	byID map[string]*appState
}

// keySep joins an app id and a uid (or room) into the key the hub, store
// and bus use. It is a control character, which pack.ValidName refuses and
// every path into the node checks with checkName (logins, pushes, rooms,
// presence, /message, the Go API), so keys of different apps cannot
// collide: a default-app name, kept unprefixed so that single-app stores
// and clusters keep their keys, never holds it.
const keySep = "\x1f"

// checkName validates a uid, room or device id that came from outside
// (pack.ValidName), naming which one it is in the error. The error also
// matches ErrBadTarget, so push paths answer it with 4004 / HTTP 400.
func checkName(kind, name string) error {
	if err := pack.ValidName(name); err != nil {
		return &nameError{kind: kind, err: err}
	}
	return nil
}

// nameError is a refused uid, room or device id; errors.Is matches both
// pack.ErrBadName and ErrBadTarget.
type nameError struct {
	kind string
	err  error
}

func (e *nameError) Error() string   { return "server: bad " + e.kind + ": " + e.err.Error() }
func (e *nameError) Unwrap() []error { return []error{e.err, ErrBadTarget} }

// key is a uid or room scoped by its app: what the hub, the Store and the
// Bus are keyed by. A uid or room from outside (a login, a push target, a
// Go API argument) becomes one only through scope, so passing an unscoped
// name where the node wants a key does not compile. The Store and Bus
// contracts carry keys as plain strings (see scoped and storeKey).
type key string

// scope returns the key of uid (or room) in app. Callers have checked
// name (checkName).
func scope(app *appState, name string) key {
	if app == nil || app.ID == "" {
		return key(name)
	}
	return key(app.ID + keySep + name)
}

// qualified renders a key for hooks and logs (QualifiedUID).
func qualified(k key) string {
	if app, name, ok := strings.Cut(string(k), keySep); ok {
		return QualifiedUID(app, name)
	}
	return QualifiedUID("", string(k))
}

// QualifiedUID is how hooks (OnOnline, OnOffline, OnUndelivered) name a
// user: "uid" in the default app, "app/uid" in another app, and "/uid" for
// a default-app uid that contains "/" — so that the default app's user
// "shop/alice" is never taken for app shop's alice (app ids are non-empty
// and never contain "/"). Keep per-user state of hooks (e.g. vendor push
// devices) under this name.
func QualifiedUID(app, uid string) string {
	switch {
	case app != "":
		return app + "/" + uid
	case strings.Contains(uid, "/"):
		return "/" + uid
	}
	return uid
}

// unscope returns the uid (or room) part of a key.
func unscope(k key) string {
	if _, name, ok := strings.Cut(string(k), keySep); ok {
		return name
	}
	return string(k)
}

func newAppState(a App, maxFrame int) *appState {
	st := &appState{App: a}
	if a.PushRate > 0 {
		st.limiter = rate.NewLimiter(rate.Limit(a.PushRate), max(1, a.PushBurst))
	}
	if a.StoreRate > 0 {
		st.store = rate.NewLimiter(rate.Limit(a.StoreRate), max(a.StoreBurst, maxFrame+64))
	}
	return st
}

// SetApps replaces the node's additional apps without downtime (plexd calls
// it on SIGHUP). Connections of an app that is removed stay until they
// close; new logins and pushes for it are refused.
func (srv *Server) SetApps(apps []App) error {
	t := &appTable{byID: make(map[string]*appState, len(apps))}
	secrets := map[string]string{}
	if srv.cfg.InnerSecret != "" {
		secrets[srv.cfg.InnerSecret] = ""
	}
	old := srv.apps.Load()
	for _, a := range apps {
		switch {
		case pack.ValidAppID(a.ID) != nil:
			return errors.New("server: app id must be 1-64 bytes of [A-Za-z0-9._-]: " + strconv.Quote(a.ID))
		case t.byID[a.ID] != nil:
			return errors.New("server: duplicate app id " + a.ID)
		case a.InnerSecret == "":
			return errors.New("server: app " + a.ID + " has no inner secret")
		}
		if other, dup := secrets[a.InnerSecret]; dup {
			return errors.New("server: apps " + a.ID + " and " + other + " share an inner secret")
		}
		secrets[a.InnerSecret] = a.ID
		st := newAppState(a, srv.cfg.MaxFrame)
		if old != nil {
			if prev := old.byID[a.ID]; prev != nil && prev.limiter != nil && st.limiter != nil &&
				prev.PushRate == a.PushRate && prev.PushBurst == a.PushBurst {
				st.limiter = prev.limiter // keep the bucket's state across reloads
			}
			if prev := old.byID[a.ID]; prev != nil && prev.store != nil && st.store != nil &&
				prev.StoreRate == a.StoreRate && prev.StoreBurst == a.StoreBurst {
				st.store = prev.store
			}
		}
		t.byID[a.ID] = st
	}
	srv.mu.Lock() // with admitLogins: no listener and app pass the guard unseen by each other
	defer srv.mu.Unlock()
	if err := checkOpenAuth(&srv.cfg, apps, append(configLoginAddrs(&srv.cfg), srv.logins...)...); err != nil {
		return err
	}
	srv.apps.Store(t)
	return nil
}

// app returns the app with id ("" = default), or nil if unknown.
func (srv *Server) app(id string) *appState {
	if id == "" {
		return srv.defaultApp
	}
	return srv.apps.Load().byID[id]
}

// appBySecret finds the app whose inner secret is secret, comparing every
// candidate in constant time. ok is false when none matches.
func (srv *Server) appBySecret(secret []byte) (*appState, bool) {
	var found *appState
	if s := srv.cfg.InnerSecret; s != "" && subtle.ConstantTimeCompare([]byte(s), secret) == 1 {
		found = srv.defaultApp
	}
	for _, a := range srv.apps.Load().byID {
		if subtle.ConstantTimeCompare([]byte(a.InnerSecret), secret) == 1 {
			found = a
		}
	}
	return found, found != nil
}

// allowPush takes one push from the app's quota.
func (a *appState) allowPush() bool { return a == nil || a.limiter == nil || a.limiter.Allow() }

// allowStore takes n stored bytes from the app's store quota (StoreRate).
func (a *appState) allowStore(n int) bool {
	return a == nil || a.store == nil || a.store.AllowN(time.Now(), n)
}

// storedSize is what a push of m puts in the store per user, as StoreRate
// counts it: its URI, body and meta, and the meta the node adds.
func storedSize(m *pack.Message) int {
	n := len(m.URI) + len(m.Body) + 64 // persist, id, ts
	for k, v := range m.Meta {
		n += len(k) + len(v)
	}
	return n
}
