package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

func do(t *testing.T, h http.Handler, method, path, bearer, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	raw, _ := io.ReadAll(rec.Body)
	_ = json.Unmarshal(raw, &out)
	return rec.Code, out
}

func TestHTTPHostOriginalShape(t *testing.T) {
	n := startNode(t, server.Config{AdvertiseAddr: "10.0.0.7:9578"})
	code, out := do(t, n.Handler(), "GET", "/plex/v1/host", "", "")
	require.Equal(t, 200, code)
	require.Equal(t, "10.0.0.7:9578", out["host"])
}

func TestHTTPPush(t *testing.T) {
	n := startNode(t, server.Config{})
	a := app(t, n.Addr, "alice", nil)
	h := n.Handler()
	code, out := do(t, h, "POST", "/plex/v1/push", secret, `{"uid":"alice","uri":"/x","body":"from http"}`)
	require.Equal(t, 200, code, "%v", out)
	require.Equal(t, 1.0, out["delivered"])
	require.Equal(t, "from http", string(a.recv().Body))

	code, out = do(t, h, "POST", "/plex/v1/push", "wrong", `{"uid":"alice","uri":"/x"}`)
	require.Equal(t, 401, code)
	require.Equal(t, 4001.0, out["code"])
	code, _ = do(t, h, "POST", "/plex/v1/push", "", `{"uid":"alice","uri":"/x"}`)
	require.Equal(t, 401, code)
	code, out = do(t, h, "POST", "/plex/v1/push", secret, `{"uri":"/x"}`)
	require.Equal(t, 400, code)
	require.Equal(t, 4004.0, out["code"])
	code, _ = do(t, h, "POST", "/plex/v1/push", secret, `{not json`)
	require.Equal(t, 400, code)
	code, _ = do(t, h, "POST", "/plex/v1/push", secret, `{"uid":"a","uri":"/x","body":"`+strings.Repeat("x", 2<<20)+`"}`)
	require.Equal(t, 413, code)
}

func TestHTTPOnlineRoomsStats(t *testing.T) {
	n := startNode(t, server.Config{})
	app(t, n.Addr, "alice", nil)
	h := n.Handler()
	code, out := do(t, h, "GET", "/plex/v1/online?uid=alice&uid=bob", secret, "")
	require.Equal(t, 200, code)
	require.Equal(t, map[string]any{"alice": true, "bob": false}, out["online"])
	code, _ = do(t, h, "GET", "/plex/v1/online?uid=alice", "", "")
	require.Equal(t, 401, code, "presence needs the secret")

	code, _ = do(t, h, "POST", "/plex/v1/rooms/team/join", secret, `{"uid":"alice"}`)
	require.Equal(t, 200, code)
	code, out = do(t, h, "GET", "/plex/v1/rooms/team", secret, "")
	require.Equal(t, 200, code)
	require.Equal(t, []any{"alice"}, out["members"])
	code, _ = do(t, h, "POST", "/plex/v1/rooms/team/leave", secret, `{"uid":"alice"}`)
	require.Equal(t, 200, code)
	code, _ = do(t, h, "POST", "/plex/v1/rooms/team/explode", secret, `{"uid":"alice"}`)
	require.Equal(t, 404, code)

	code, out = do(t, h, "GET", "/plex/v1/stats", secret, "")
	require.Equal(t, 200, code)
	require.Equal(t, 1.0, out["connections"])
	require.Equal(t, 1.0, out["users"])
}

func TestHTTPHealthAndMetrics(t *testing.T) {
	n := startNode(t, server.Config{})
	app(t, n.Addr, "alice", nil)
	h := n.Handler()
	code, _ := do(t, h, "GET", "/healthz", "", "")
	require.Equal(t, 200, code)
	code, _ = do(t, h, "GET", "/readyz", "", "")
	require.Equal(t, 200, code)
	require.Equal(t, 1.0, metricValue(t, n, "plex_connections", ""))
	require.Equal(t, 1.0, metricValue(t, n, "plex_auth_total", "ok"))
	require.Equal(t, 1.0, metricValue(t, n, "plex_ready", ""))
	require.Equal(t, 1.0, metricValue(t, n, "plex_store_ready", ""), "the memory store always stores")
}

func TestHTTPWithoutSecretRefusesWrites(t *testing.T) {
	srv, err := server.New(server.Config{})
	require.NoError(t, err)
	defer srv.Close()
	code, _ := do(t, srv.Handler(), "POST", "/plex/v1/push", "", `{"uid":"a","uri":"/x"}`)
	require.Equal(t, 403, code)
	code, _ = do(t, srv.Handler(), "GET", "/readyz", "", "")
	require.Equal(t, 503, code, "not ready before Serve")
}

func TestSeveralServersInOneProcess(t *testing.T) {
	a := startNode(t, server.Config{})
	b := startNode(t, server.Config{})
	pa := app(t, a.Addr, "alice", nil)
	app(t, b.Addr, "alice", nil)
	out, err := a.Push(t.Context(), server.User("alice"), pack.Message{URI: "/x"})
	require.NoError(t, err)
	require.Equal(t, 1, out.Delivered, "servers share nothing")
	require.Equal(t, "/x", pa.recv().URI)
}
