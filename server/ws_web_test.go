package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/server"
)

func TestHandlerServesTheConsoleAndTheClient(t *testing.T) {
	h := startNode(t, server.Config{}).Handler()
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
