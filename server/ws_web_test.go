package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/server"
	"github.com/plexpush/plex/web"
)

// The console and the browser client are served only when asked for
// (plexd mounts web.Routes); the API itself has no console.
func TestHandlerServesTheConsoleAndTheClient(t *testing.T) {
	bare := httptest.NewRecorder()
	startNode(t, server.Config{}).Handler().ServeHTTP(bare, httptest.NewRequest("GET", "/console", nil))
	require.Equal(t, http.StatusNotFound, bare.Code, "an embedder serves no console it did not ask for")

	h := startNode(t, server.Config{HTTPRoutes: web.Routes()}).Handler()
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec
	}
	rec := get("/console")
	require.Equal(t, http.StatusFound, rec.Code)
	require.Equal(t, "/web/console/", rec.Header().Get("Location"))
	rec = get("/web/console/")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "plex console")
	require.Contains(t, rec.Header().Get("Content-Security-Policy"), "default-src 'self'")
	rec = get("/web/client/plex.js")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "export class Client")
}

// A route that clashes with the API's fails New instead of panicking.
func TestHTTPRoutesClashRefused(t *testing.T) {
	_, err := server.New(server.Config{HTTPRoutes: map[string]http.Handler{"GET /plex/v1/host": http.NotFoundHandler()}})
	require.ErrorContains(t, err, "HTTPRoutes")
}
