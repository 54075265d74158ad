package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/plexpush/plex/pack"
)

// statsReply is GET /plex/v1/stats: this node's counts and, in a
// cluster, every live node (this one included).
type statsReply struct {
	Stats
	Nodes []NodeInfo `json:"nodes,omitempty"`
}

// maxPushBodyOverhead bounds an HTTP push request body: MaxFrame plus
// this much JSON overhead.
const maxPushBodyOverhead = 64 << 10

// Handler returns the node's HTTP API, mountable in any mux:
//
//	GET  /plex/v1/host                     {"host":"ip:port"} (original shape)
//	POST /plex/v1/push                     PushRequest → Outcome       (bearer)
//	GET  /plex/v1/online?uid=a&uid=b       {"online":{"a":true}}       (bearer)
//	GET  /plex/v1/rooms/{room}             {"members":[...]}           (bearer)
//	POST /plex/v1/rooms/{room}/join        {"uid":"a"}                 (bearer)
//	POST /plex/v1/rooms/{room}/leave       {"uid":"a"}                 (bearer)
//	GET  /plex/v1/stats                    Stats + the cluster's nodes (bearer)
//	GET  /plex/v1/ws                       the WebSocket transport (docs/web.md)
//	GET  /healthz /readyz /metrics
//
// plus Config.HTTPRoutes (plexd mounts the console and the browser client
// there, package web; an embedder serves only what it asks for).
//
// Bearer endpoints need "Authorization: Bearer <InnerSecret>" and are
// refused (403) when no InnerSecret is configured. Errors, including a
// path (404) or method (405) not served, are {"error":"…","code":N}.
func (srv *Server) Handler() http.Handler { return srv.handler }

// newHandler builds the HTTP API's handler once (New); a route of
// Config.HTTPRoutes that clashes with the API's is an error.
func (srv *Server) newHandler() (h http.Handler, err error) {
	defer func() {
		if r := recover(); r != nil { // http.ServeMux panics on a clash
			err = fmt.Errorf("server: Config.HTTPRoutes: %v", r)
		}
	}()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /plex/v1/host", srv.handleHost)
	mux.Handle("POST /plex/v1/push", srv.bearer(srv.handlePush))
	mux.Handle("GET /plex/v1/online", srv.bearer(srv.handleOnline))
	mux.Handle("GET /plex/v1/rooms/{room}", srv.bearer(srv.handleRoom))
	mux.Handle("POST /plex/v1/rooms/{room}/{op}", srv.bearer(srv.handleRoomOp))
	mux.Handle("GET /plex/v1/stats", srv.bearer(func(w http.ResponseWriter, r *http.Request, _ *appState) {
		reply := statsReply{Stats: srv.Stats()}
		if srv.link != nil {
			reply.Nodes = srv.link.bus.Nodes()
		}
		writeJSON(w, http.StatusOK, reply)
	}))
	if !srv.cfg.DisableWebSocket {
		mux.Handle("GET "+WebSocketPath, srv.newWSEndpoint())
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", srv.handleReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(srv.metrics.gatherer, promhttp.HandlerOpts{}))
	for pattern, h := range srv.cfg.HTTPRoutes {
		mux.Handle(pattern, h) // New checked that none clashes
	}
	return jsonFallback{mux}, nil
}

// handleReady answers /readyz: 200 when the node takes app connections
// and routes pushes (a load balancer's check); with ?store=1, only when a
// persistent push would also be stored now (a pusher's check). The body
// says which: {"status","store"[,"reason"]}.
func (srv *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	res := map[string]string{"status": "ready", "store": "ok"}
	ready := true
	routeErr, storeErr := srv.readiness()
	if routeErr != nil {
		ready, res["status"], res["reason"] = false, "not ready", routeErr.Error()
	}
	if storeErr != nil {
		res["store"] = "unavailable: " + storeErr.Error()
		if r.URL.Query().Get("store") == "1" {
			ready, res["status"] = false, "not ready"
		}
	}
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, res)
}

// readiness says why the node does not take app connections and route
// pushes now (route; nil: it does) and why a persistent push would not be
// stored now (store; nil: it would). /readyz answers with it and the
// gauges plex_ready and plex_store_ready follow it.
func (srv *Server) readiness() (route, store error) {
	if b := srv.cfg.Bus; b != nil {
		route, store = b.Health(), b.StoreHealth()
	}
	switch {
	case srv.isClosing():
		route = errors.New("shutting down")
	case srv.Addr() == nil:
		route = errors.New("not serving")
	}
	return route, store
}

func (srv *Server) handleHost(w http.ResponseWriter, r *http.Request) {
	host := srv.AdvertiseAddr()
	if srv.link != nil {
		if h, ok := srv.link.bus.PickHost(); ok {
			host = h
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"host": host})
}

// bearer authenticates a write or presence call by its inner secret; the
// secret also says which app the call acts in.
func (srv *Server) bearer(next func(http.ResponseWriter, *http.Request, *appState)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if srv.cfg.InnerSecret == "" && len(srv.apps.Load().byID) == 0 {
			httpError(w, http.StatusForbidden, pack.CodeForbidden, "no inner secret configured")
			return
		}
		if srv.throttle.blocked(r.RemoteAddr) {
			srv.metrics.rateLimited.WithLabelValues("secret_failures").Inc()
			w.Header().Set("Retry-After", "1")
			httpError(w, http.StatusTooManyRequests, pack.CodeRateLimited, "too many wrong secrets from this address; retry later")
			return
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		app, found := srv.appBySecret([]byte(tok))
		if !ok || !found {
			srv.throttle.failed(r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="plex"`)
			httpError(w, http.StatusUnauthorized, pack.CodeAuthFailed, "invalid inner secret")
			return
		}
		next(w, r, app)
	})
}

func (srv *Server) handlePush(w http.ResponseWriter, r *http.Request, app *appState) {
	var req PushRequest
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(srv.cfg.MaxFrame+maxPushBodyOverhead)))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpError(w, http.StatusRequestEntityTooLarge, pack.CodeBadRequest, "body too large")
			return
		}
		httpError(w, http.StatusBadRequest, pack.CodeBadRequest, "reading body: "+err.Error())
		return
	}
	if err := pack.DecodePushRequest(raw, &req); err != nil {
		httpError(w, http.StatusBadRequest, pack.CodeBadRequest, "push body: "+err.Error())
		return
	}
	b := srv.getBatch()
	out, err := srv.push(r.Context(), b, targetOf(&req).In(app.ID), messageOf(&req), optionsOf(&req))
	srv.putBatch(b)
	if err != nil {
		code := pushErrorCode(err)
		status := http.StatusBadRequest
		switch code {
		case pack.CodeInternal:
			status = http.StatusServiceUnavailable
		case pack.CodeOutcomeUnknown:
			// 504, not 503: like a gateway whose upstream did not answer,
			// the node could not learn whether its store kept the push. A
			// pusher that reads only the status must not take it for
			// 503's "not stored, retry".
			status = http.StatusGatewayTimeout
		case pack.CodeRateLimited:
			status = http.StatusTooManyRequests
		}
		httpError(w, status, code, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (srv *Server) handleOnline(w http.ResponseWriter, r *http.Request, app *appState) {
	uids := r.URL.Query()["uid"]
	if len(uids) == 0 {
		httpError(w, http.StatusBadRequest, pack.CodeBadRequest, "uid query parameter required")
		return
	}
	for _, uid := range uids {
		if err := checkName("uid", uid); err != nil {
			httpError(w, http.StatusBadRequest, pack.CodeBadRequest, err.Error())
			return
		}
	}
	res := make(map[string]bool, len(uids))
	for _, uid := range uids {
		res[uid] = srv.Online(User(uid).In(app.ID))
	}
	writeJSON(w, http.StatusOK, map[string]any{"online": res})
}

func (srv *Server) handleRoom(w http.ResponseWriter, r *http.Request, app *appState) {
	room := r.PathValue("room")
	if err := checkName("room", room); err != nil {
		httpError(w, http.StatusBadRequest, pack.CodeBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"room": room, "members": srv.Members(Room(room).In(app.ID))})
}

func (srv *Server) handleRoomOp(w http.ResponseWriter, r *http.Request, app *appState) {
	var req struct {
		UID string `json:"uid"`
	}
	// not UTF-8: encoding/json would make the uid another, valid one
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4096))
	if err != nil || !utf8.Valid(raw) || json.Unmarshal(raw, &req) != nil || req.UID == "" {
		httpError(w, http.StatusBadRequest, pack.CodeBadRequest, `body must be {"uid":"…"} in UTF-8`)
		return
	}
	room := r.PathValue("room")
	switch r.PathValue("op") {
	case "join":
		err = srv.Join(Room(room).In(app.ID), req.UID)
	case "leave":
		err = srv.Leave(Room(room).In(app.ID), req.UID)
	default:
		httpError(w, http.StatusNotFound, pack.CodeNotFound, "unknown room operation")
		return
	}
	switch {
	case errors.Is(err, ErrUnknownApp): // removed by SetApps meanwhile
		httpError(w, http.StatusNotFound, pack.CodeNotFound, err.Error())
	case err != nil:
		httpError(w, http.StatusBadRequest, pack.CodeBadRequest, err.Error())
	default:
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func httpError(w http.ResponseWriter, status int, code pack.Code, msg string) {
	writeJSON(w, status, map[string]any{"error": msg, "code": int(code)})
}

// jsonFallback answers the requests mux has no route for like every other
// error of the API (protocol §15: {"error","code"}), where ServeMux would
// answer plain text: 404 with 4006 (not found), 405 with 4004 (bad
// request) and ServeMux's Allow header.
type jsonFallback struct{ mux *http.ServeMux }

func (f jsonFallback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := f.mux.Handler(r)
	if pattern == "" { // no route: ServeMux's own 404 or 405 handler
		rec := statusOnly{header: http.Header{}, status: http.StatusOK}
		h.ServeHTTP(&rec, r)
		switch rec.status {
		case http.StatusNotFound:
			httpError(w, http.StatusNotFound, pack.CodeNotFound, "no such endpoint: "+r.URL.Path)
			return
		case http.StatusMethodNotAllowed:
			allow := rec.header.Get("Allow")
			w.Header().Set("Allow", allow)
			httpError(w, http.StatusMethodNotAllowed, pack.CodeBadRequest, r.URL.Path+" takes "+allow+", not "+r.Method)
			return
		}
	}
	f.mux.ServeHTTP(w, r) // the route (ServeHTTP sets its pattern and path values)
}

// statusOnly records the status and headers a handler answers with and
// drops the body.
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header         { return s.header }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(status int)      { s.status = status }
