package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
)

const (
	hookToken  = "tok-SECRET-4f9a2c71e0" // must appear in no error or log
	hookSecret = "hook-SHARED-9b1e77"    // the Authorization header value
)

// hookRequest is what the test endpoint saw.
type hookRequest struct {
	method, path, contentType, auth, accept string
	body                                    map[string]any
}

// hookServer starts an endpoint that records each request on a buffered
// channel and answers with reply. It is closed at cleanup.
func hookServer(t *testing.T, reply http.HandlerFunc) (*httptest.Server, <-chan hookRequest) {
	t.Helper()
	seen := make(chan hookRequest, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hr := hookRequest{method: r.Method, path: r.URL.Path, contentType: r.Header.Get("Content-Type"),
			auth: r.Header.Get("Authorization"), accept: r.Header.Get("Accept")}
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &hr.body)
		select {
		case seen <- hr:
		default:
		}
		reply(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func newWebhook(t *testing.T, cfg auth.WebhookConfig) *auth.Webhook {
	t.Helper()
	if cfg.Header == nil {
		cfg.Header = http.Header{"Authorization": {"Bearer " + hookSecret}}
	}
	w, err := auth.NewWebhook(cfg)
	require.NoError(t, err)
	t.Cleanup(w.CloseIdleConnections)
	return w
}

func TestWebhookRequest(t *testing.T) {
	checkGoroutines(t)
	srv, seen := hookServer(t, reply(200, `{"uid":"alice"}`))
	w := newWebhook(t, auth.WebhookConfig{URL: srv.URL + "/plex/auth"})

	uid, err := w.Authenticate(t.Context(), hookToken, remoteAddr)
	require.NoError(t, err)
	require.Equal(t, "alice", uid)

	r := <-seen
	require.Equal(t, http.MethodPost, r.method)
	require.Equal(t, "/plex/auth", r.path)
	require.Equal(t, "application/json", r.contentType)
	require.Equal(t, "application/json", r.accept)
	require.Equal(t, "Bearer "+hookSecret, r.auth)
	require.Equal(t, map[string]any{"token": hookToken, "remote": "192.0.2.7:40123"}, r.body)

	// No remote address: "remote" is present and empty.
	_, err = w.Authenticate(t.Context(), hookToken, nil)
	require.NoError(t, err)
	r = <-seen
	require.Equal(t, map[string]any{"token": hookToken, "remote": ""}, r.body)
}

func TestWebhookBasicAuthInURL(t *testing.T) {
	checkGoroutines(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "node" || p != "pw-SECRET" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, `{"uid":"bob"}`)
	}))
	t.Cleanup(srv.Close)
	w := newWebhook(t, auth.WebhookConfig{
		URL:    strings.Replace(srv.URL, "http://", "http://node:pw-SECRET@", 1),
		Header: http.Header{}, // an Authorization header would take precedence
	})
	uid, err := w.Authenticate(t.Context(), hookToken, remoteAddr)
	require.NoError(t, err)
	require.Equal(t, "bob", uid)

	srv.Close() // now unreachable: the error must not show the password
	_, err = w.Authenticate(t.Context(), hookToken, remoteAddr)
	requireUnavailable(t, err, hookToken)
	require.NotContains(t, err.Error(), "pw-SECRET")
}

func TestWebhookReplies(t *testing.T) {
	checkGoroutines(t)
	// A reply body of exactly 64 KiB is read; one byte more is refused.
	pad := func(n int) string {
		s := `{"uid":"alice","pad":"`
		return s + strings.Repeat("x", n-len(s)-2) + `"}`
	}
	const (
		ok          = "ok"
		failed      = "failed"
		unavailable = "unavailable"
	)
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    string // ok, failed or unavailable
		uid     string // for ok
		reason  string // for failed
	}{
		{"200 uid", reply(200, `{"uid":"alice"}`), ok, "alice", ""},
		{"200 uid ok true", reply(200, `{"ok":true,"uid":"alice"}`), ok, "alice", ""},
		{"200 uid outside ValidUID", reply(200, `{"uid":"auth0|Zoë"}`), ok, "auth0|Zoë", ""},
		{"200 uid and extra fields", reply(200, `{"uid":"alice","roles":["a"]}`), ok, "alice", ""},
		{"200 exactly 64 KiB", reply(200, pad(64<<10)), ok, "alice", ""},
		{"200 ok false with reason", reply(200, `{"ok":false,"reason":"user banned"}`), failed, "", "user banned"},
		{"200 ok false with uid", reply(200, `{"ok":false,"uid":"alice"}`), failed, "", "rejected by webhook"},
		{"200 ok false", reply(200, `{"ok":false}`), failed, "", "rejected by webhook"},
		{"200 empty uid", reply(200, `{"uid":""}`), failed, "", "rejected by webhook"},
		{"200 no uid", reply(200, `{}`), failed, "", "rejected by webhook"},
		{"200 null", reply(200, `null`), failed, "", "rejected by webhook"},
		{"200 reason quoting the token", reply(200, `{"ok":false,"reason":"bad token `+hookToken+`"}`), failed, "", "rejected by webhook"},
		{"200 reason with a newline", reply(200, `{"ok":false,"reason":"bad\nthing"}`), failed, "", "rejected by webhook"},
		{"200 reason too long", reply(200, `{"ok":false,"reason":"`+strings.Repeat("r", 129)+`"}`), failed, "", "rejected by webhook"},
		{"401 empty", reply(401, ``), failed, "", "rejected by webhook"},
		{"401 with reason", reply(401, `{"reason":"session expired"}`), failed, "", "session expired"},
		{"401 with uid still fails", reply(401, `{"uid":"alice"}`), failed, "", "rejected by webhook"},
		{"403 text body", reply(403, `Forbidden`), failed, "", "rejected by webhook"},
		{"500", reply(500, `{"uid":"alice"}`), unavailable, "", ""},
		{"502", reply(502, ``), unavailable, "", ""},
		{"503", reply(503, `{"ok":false}`), unavailable, "", ""},
		{"404", reply(404, ``), unavailable, "", ""},
		{"429", reply(429, ``), unavailable, "", ""},
		{"204", reply(204, ``), unavailable, "", ""},
		{"201", reply(201, `{"uid":"alice"}`), unavailable, "", ""},
		{"200 not JSON", reply(200, `alice`), unavailable, "", ""},
		{"200 empty body", reply(200, ``), unavailable, "", ""},
		{"200 uid not a string", reply(200, `{"uid":42}`), unavailable, "", ""},
		{"200 trailing garbage", reply(200, `{"uid":"alice"} {"uid":"bob"}`), unavailable, "", ""},
		{"200 uid too long", reply(200, `{"uid":"`+strings.Repeat("u", 129)+`"}`), unavailable, "", ""},
		{"200 uid with control", reply(200, `{"uid":"al\u0000ice"}`), unavailable, "", ""},
		{"200 64 KiB + 1", reply(200, pad(64<<10+1)), unavailable, "", ""},
		{"401 64 KiB + 1", reply(401, `{"reason":"x"}`+strings.Repeat(" ", 64<<10)), failed, "", "rejected by webhook"},
		{"500 10 MiB", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(500)
			_, _ = w.Write(bytes.Repeat([]byte("x"), 10<<20))
		}, unavailable, "", ""},
		{"200 10 MiB", func(w http.ResponseWriter, _ *http.Request) {
			chunk := bytes.Repeat([]byte("x"), 64<<10)
			for range 160 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, unavailable, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := hookServer(t, tc.handler)
			w := newWebhook(t, auth.WebhookConfig{URL: srv.URL})
			uid, err := w.Authenticate(t.Context(), hookToken, remoteAddr)
			switch tc.want {
			case ok:
				require.NoError(t, err)
				require.Equal(t, tc.uid, uid)
			case failed:
				require.Empty(t, uid)
				requireFailed(t, err, tc.reason, hookToken)
			case unavailable:
				require.Empty(t, uid)
				requireUnavailable(t, err, hookToken)
			}
		})
	}
}

func TestWebhookNoRedirects(t *testing.T) {
	checkGoroutines(t)
	var elsewhere atomic.Int32
	other, _ := hookServer(t, func(w http.ResponseWriter, _ *http.Request) {
		elsewhere.Add(1)
		_, _ = io.WriteString(w, `{"uid":"mallory"}`)
	})
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, target := range []string{other.URL + "/steal", "/same-host"} {
			srv, _ := hookServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/same-host" {
					elsewhere.Add(1)
					_, _ = io.WriteString(w, `{"uid":"mallory"}`)
					return
				}
				http.Redirect(w, r, target, status)
			})
			// A caller's Client that would follow redirects is not obeyed
			// (and not changed).
			client := &http.Client{}
			w := newWebhook(t, auth.WebhookConfig{URL: srv.URL + "/auth", Client: client})
			uid, err := w.Authenticate(t.Context(), hookToken, remoteAddr)
			require.Empty(t, uid, "status %d to %s", status, target)
			requireUnavailable(t, err, hookToken)
			require.Contains(t, err.Error(), "answered 3")
			require.Nil(t, client.CheckRedirect, "the caller's Client was changed")
			client.CloseIdleConnections()
		}
	}
	require.Zero(t, elsewhere.Load(), "a redirect was followed")
}

// blockingServer answers nothing until the request is cancelled (or the
// test ends); started is signalled once a request arrived.
func blockingServer(t *testing.T) (*httptest.Server, <-chan struct{}) {
	t.Helper()
	started := make(chan struct{}, 16)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv, started
}

func TestWebhookTimeouts(t *testing.T) {
	checkGoroutines(t)
	srv, started := blockingServer(t)

	t.Run("Timeout", func(t *testing.T) {
		w := newWebhook(t, auth.WebhookConfig{URL: srv.URL, Timeout: 100 * time.Millisecond})
		start := time.Now()
		_, err := w.Authenticate(t.Context(), hookToken, remoteAddr)
		requireUnavailable(t, err, hookToken)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Less(t, time.Since(start), 2*time.Second, "did not return promptly")
		<-started
	})
	t.Run("ctx deadline before Timeout", func(t *testing.T) {
		w := newWebhook(t, auth.WebhookConfig{URL: srv.URL}) // default 3 s
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := w.Authenticate(ctx, hookToken, remoteAddr)
		requireUnavailable(t, err, hookToken)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Less(t, time.Since(start), 2500*time.Millisecond, "waited for the 3 s default instead of the context")
		<-started
	})
	t.Run("ctx cancelled in flight", func(t *testing.T) {
		w := newWebhook(t, auth.WebhookConfig{URL: srv.URL})
		ctx, cancel := context.WithCancel(t.Context())
		go func() { <-started; cancel() }()
		start := time.Now()
		_, err := w.Authenticate(ctx, hookToken, remoteAddr)
		requireUnavailable(t, err, hookToken)
		require.ErrorIs(t, err, context.Canceled)
		require.Less(t, time.Since(start), 2500*time.Millisecond, "waited for the 3 s default instead of the context")
	})
	t.Run("reply body stalls", func(t *testing.T) {
		stall, _ := hookServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			_, _ = io.WriteString(w, `{"uid":`)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		})
		w := newWebhook(t, auth.WebhookConfig{URL: stall.URL, Timeout: 100 * time.Millisecond})
		start := time.Now()
		_, err := w.Authenticate(t.Context(), hookToken, remoteAddr)
		requireUnavailable(t, err, hookToken)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Less(t, time.Since(start), 2*time.Second, "did not return promptly")
	})
	t.Run("ctx cancelled before", func(t *testing.T) {
		w := newWebhook(t, auth.WebhookConfig{URL: srv.URL})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := w.Authenticate(ctx, hookToken, remoteAddr)
		requireUnavailable(t, err, hookToken)
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestWebhookUnreachable(t *testing.T) {
	checkGoroutines(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	w := newWebhook(t, auth.WebhookConfig{URL: "http://" + addr + "/auth"})
	_, err = w.Authenticate(t.Context(), hookToken, remoteAddr)
	requireUnavailable(t, err, hookToken)
	require.NotContains(t, err.Error(), hookSecret)
}

func TestWebhookLogs(t *testing.T) {
	checkGoroutines(t)
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	status := atomic.Int32{}
	srv, _ := hookServer(t, func(w http.ResponseWriter, _ *http.Request) {
		switch status.Load() {
		case 0:
			_, _ = io.WriteString(w, `{"uid":"alice"}`)
		case 1:
			w.WriteHeader(401)
		default:
			w.WriteHeader(500)
		}
	})
	w := newWebhook(t, auth.WebhookConfig{URL: srv.URL, Logger: log})
	for i := range 3 {
		status.Store(int32(i))
		_, _ = w.Authenticate(t.Context(), hookToken, remoteAddr)
	}
	out := buf.String()
	require.Contains(t, out, "webhook accepted")
	require.Contains(t, out, "webhook refused")
	require.Contains(t, out, "webhook failed")
	require.Contains(t, out, remoteAddr.String())
	require.NotContains(t, out, hookToken)
	require.NotContains(t, out, hookSecret)
}

func TestWebhookCopiesHeader(t *testing.T) {
	checkGoroutines(t)
	srv, seen := hookServer(t, reply(200, `{"uid":"alice"}`))
	h := http.Header{"authorization": {"Bearer " + hookSecret}} // not canonical
	w := newWebhook(t, auth.WebhookConfig{URL: srv.URL, Header: h})
	h.Set("Authorization", "changed")
	_, err := w.Authenticate(t.Context(), hookToken, nil)
	require.NoError(t, err)
	require.Equal(t, "Bearer "+hookSecret, (<-seen).auth)
}

func TestNewWebhookConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  auth.WebhookConfig
	}{
		{"no URL", auth.WebhookConfig{}},
		{"relative", auth.WebhookConfig{URL: "/auth"}},
		{"ftp", auth.WebhookConfig{URL: "ftp://user:pw-SECRET@example.com/auth"}},
		{"no host", auth.WebhookConfig{URL: "http:///auth"}},
		{"unparsable", auth.WebhookConfig{URL: "http://user:pw-SECRET@exa mple.com/%zz"}},
		{"negative timeout", auth.WebhookConfig{URL: "http://example.com", Timeout: -time.Second}},
		{"header injection", auth.WebhookConfig{URL: "http://example.com",
			Header: http.Header{"Authorization": {"Bearer pw-SECRET\r\nX-Evil: 1"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := auth.NewWebhook(tc.cfg)
			require.ErrorIs(t, err, auth.ErrBadConfig)
			require.Nil(t, w)
			require.NotContains(t, err.Error(), "pw-SECRET")
		})
	}
}

func TestWebhookZeroValue(t *testing.T) {
	for _, w := range []*auth.Webhook{nil, {}} {
		_, err := w.Authenticate(t.Context(), hookToken, nil)
		requireUnavailable(t, err, hookToken)
	}
}
