// Package web is plex's browser side, embedded into every node: the
// browser client library (client/plex.js, a plain ES module) and the
// operator console with a demo chat (console/). plexd serves the files
// under /web/ (the console at /web/console/) beside the node's HTTP API
// (Routes, server.Config.HTTPRoutes); docs/web.md describes both.
//
// The files are static and public: everything the console shows or does
// goes through the node's HTTP API with the inner secret the operator
// types, which stays in the page's memory. Every page loads modules from
// this package only; the Content-Security-Policy below forbids anything
// else (no CDN, no inline script).
package web

import (
	"embed"
	"net/http"
)

//go:embed client/plex.js client/plex.d.ts client/plex-sw.js console
var files embed.FS

// csp allows this origin only: scripts and styles from these files,
// fetch and WebSocket to the node that served them.
const csp = "default-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the embedded files, rooted at this directory
// ("/console/index.html", "/client/plex.js"). Mount it with the prefix
// stripped: mux.Handle("GET /web/", http.StripPrefix("/web", web.Handler())).
func Handler() http.Handler {
	fs := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache") // embedded files carry no dates: revalidate
		fs.ServeHTTP(w, r)
	})
}

// Routes returns the routes that serve these files beside a node's HTTP
// API, for server.Config.HTTPRoutes (plexd sets them): the files under
// /web/ and /console, which redirects to the console.
func Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /web/":    http.StripPrefix("/web", Handler()),
		"GET /console": http.RedirectHandler("/web/console/", http.StatusFound),
	}
}
