package server_test

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// TestHTTPUnroutedAnswersJSON: a path or a method the API does not serve
// is answered {"error","code"} like every other error (protocol §15), not
// with ServeMux's plain text; a 405 keeps its Allow header. Routed paths,
// path values and redirects are untouched.
func TestHTTPUnroutedAnswersJSON(t *testing.T) {
	n := startNode(t, server.Config{})
	h := n.Handler()
	for _, tc := range []struct {
		method, path string
		status       int
		code         pack.Code
		allow        string
	}{
		{"GET", "/plex/v1/nope", 404, pack.CodeNotFound, ""},
		{"GET", "/", 404, pack.CodeNotFound, ""},
		{"POST", "/plex/v1/host", 405, pack.CodeBadRequest, "GET, HEAD"},
		{"GET", "/plex/v1/push", 405, pack.CodeBadRequest, "POST"},
		{"DELETE", "/plex/v1/rooms/r1", 405, pack.CodeBadRequest, "GET, HEAD"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		require.Equal(t, tc.status, rec.Code, "%s %s", tc.method, tc.path)
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"), "%s %s", tc.method, tc.path)
		require.Equal(t, tc.allow, rec.Header().Get("Allow"), "%s %s", tc.method, tc.path)
		code, out := do(t, h, tc.method, tc.path, "", "")
		require.Equal(t, tc.status, code)
		require.EqualValues(t, tc.code, out["code"], "%s %s: %v", tc.method, tc.path, out)
		require.NotEmpty(t, out["error"], "%s %s", tc.method, tc.path)
	}
	code, out := do(t, h, "GET", "/plex/v1/rooms/r1", secret, "")
	require.Equal(t, 200, code, "a routed path with a path value: %v", out)
}
