package server_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

func appAuth(app string) map[string]string { return map[string]string{pack.MetaApp: app} }

func jwtFor(t *testing.T, key []byte, sub string) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": sub, "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString(key)
	require.NoError(t, err)
	return tok
}

func twoApps(t *testing.T) (*node, []byte, []byte) {
	t.Helper()
	keyA, keyB := []byte("app-a-signing-key-0123456789abcdef"), []byte("app-b-signing-key-0123456789abcdef")
	ja, err := auth.NewJWT(auth.JWTConfig{HMACSecret: keyA})
	require.NoError(t, err)
	jb, err := auth.NewJWT(auth.JWTConfig{HMACSecret: keyB})
	require.NoError(t, err)
	n := startNode(t, server.Config{Apps: []server.App{
		{ID: "a", Authenticator: ja, InnerSecret: "push-a", MessagePolicy: func(string, string) bool { return true }},
		{ID: "b", Authenticator: jb, InnerSecret: "push-b"},
	}})
	return n, keyA, keyB
}

func TestAppsAreIsolated(t *testing.T) {
	n, keyA, keyB := twoApps(t)
	a := dial(t, n.Addr)
	infoA := a.auth(jwtFor(t, keyA, "alice"), appAuth("a"))
	require.Equal(t, "a", infoA.App)
	require.Equal(t, "alice", infoA.UID)
	b := dial(t, n.Addr)
	b.auth(jwtFor(t, keyB, "alice"), appAuth("b")) // same uid, other app
	def := app(t, n.Addr, "alice", nil)            // and the default app

	// pushes
	out, err := n.Push(ctx(t), server.User("alice").In("a"), pack.Message{URI: "/x", Body: []byte("for a")})
	require.NoError(t, err)
	require.Equal(t, 1, out.Delivered)
	require.Equal(t, "for a", string(a.recv().Body))
	// a push client of app b reaches only app b's alice, even naming app a
	pb := dial(t, n.Addr)
	pb.send(pack.Message{URI: pack.URIInnerAuth, Body: []byte("push-b")})
	require.Equal(t, pack.URIAuthSuccess, pb.recv().URI)
	res, cerr := pb.push(1, server.PushRequest{UID: "alice", URI: "/x", Body: "for b"})
	require.Nil(t, cerr)
	require.Equal(t, 1, res.Delivered)
	require.Equal(t, "for b", string(b.recv().Body))
	// broadcast within app a only
	out, err = n.Push(ctx(t), server.Everyone().In("a"), pack.Message{URI: "/all"})
	require.NoError(t, err)
	require.Equal(t, 1, out.Delivered)
	require.Equal(t, "/all", a.recv().URI)
	for _, p := range []*peer{b, def} {
		_, err := p.tryRecv(100 * time.Millisecond)
		require.Error(t, err, "nothing crosses apps")
	}
	// presence and rooms
	require.True(t, n.Online(server.User("alice").In("a")))
	n.Join(server.Room("team").In("a"), "alice")
	require.Equal(t, []string{"alice"}, n.Members(server.Room("team").In("a")))
	require.Empty(t, n.Members(server.Room("team").In("b")))
	require.Empty(t, n.Members(server.Room("team")))
	code, body := do(t, n.Handler(), "GET", "/plex/v1/rooms/team", "push-b", "")
	require.Equal(t, 200, code)
	require.Empty(t, body["members"])
	_, err = n.Push(ctx(t), server.User("x").In("nope"), pack.Message{URI: "/x"})
	require.ErrorIs(t, err, server.ErrUnknownApp)
}

func TestAppTokenRefusedByOtherApp(t *testing.T) {
	n, keyA, _ := twoApps(t)
	p := dial(t, n.Addr)
	p.send(pack.Message{URI: pack.URIAuth, Body: []byte(jwtFor(t, keyA, "alice")), Meta: appAuth("b")})
	p.expectClosed(pack.URIAuthFailed, pack.CodeAuthFailed)
	q := dial(t, n.Addr)
	q.send(pack.Message{URI: pack.URIAuth, Body: []byte("alice"), Meta: appAuth("unknown")})
	q.expectClosed(pack.URIAuthFailed, pack.CodeAuthFailed)
}

func TestSetAppsAtRunTime(t *testing.T) {
	n := startNode(t, server.Config{})
	require.Error(t, n.SetApps([]server.App{{ID: "bad id!", InnerSecret: "x"}}))
	require.Error(t, n.SetApps([]server.App{{ID: "dup", InnerSecret: secret}}), "secret shared with the default app")
	require.NoError(t, n.SetApps([]server.App{{ID: "late", Authenticator: auth.None{}, InnerSecret: "late-secret"}}))
	p := dial(t, n.Addr)
	require.Equal(t, "late", p.auth("bob", appAuth("late")).App)
	code, _ := do(t, n.Handler(), "POST", "/plex/v1/push", "late-secret", `{"uid":"bob","uri":"/x","body":"hi"}`)
	require.Equal(t, 200, code)
	require.Equal(t, "hi", string(p.recv().Body))
}

func messageReq(to, body, conv string) []byte {
	b, _ := json.Marshal(map[string]string{"to": to, "body": body, "conversation": conv})
	return b
}

func TestUserToUserMessaging(t *testing.T) {
	n := startNode(t, server.Config{MessagePolicy: func(from, to string) bool { return to != "boss" }})
	alice := app(t, n.Addr, "alice", nil)
	bob := app(t, n.Addr, "bob", nil)
	// a spoofed "from" in the sender's meta is ignored
	alice.send(pack.Message{Seq: 5, URI: pack.URIMessage, Body: messageReq("bob", "hi bob", "c1"),
		Meta: map[string]string{pack.MetaFrom: "mallory"}})
	got := bob.recv()
	require.Equal(t, pack.URIMessage, got.URI)
	require.Equal(t, "hi bob", string(got.Body))
	require.Equal(t, "alice", got.Get(pack.MetaFrom))
	require.Equal(t, "c1", got.Get(pack.MetaConversation))
	require.NotEmpty(t, got.Get(pack.MetaID))
	require.NotEmpty(t, got.Get(pack.MetaTime))
	ack := alice.recv()
	require.Equal(t, pack.URIReply, ack.URI)
	require.Equal(t, int64(5), ack.Seq)
	var r struct {
		ID        string `json:"id"`
		Delivered int    `json:"delivered"`
	}
	require.NoError(t, json.Unmarshal(ack.Body, &r))
	require.Equal(t, got.Get(pack.MetaID), r.ID)
	require.Equal(t, 1, r.Delivered)

	// offline target: stored, delivered on reconnect
	alice.send(pack.Message{Seq: 6, URI: pack.URIMessage, Body: messageReq("carol", "later", "")})
	require.Equal(t, pack.URIReply, alice.recv().URI)
	carol := app(t, n.Addr, "carol", nil)
	m := carol.recv()
	require.Equal(t, "later", string(m.Body))
	require.Equal(t, "alice", m.Get(pack.MetaFrom))

	// policy says no; malformed request
	alice.send(pack.Message{Seq: 7, URI: pack.URIMessage, Body: messageReq("boss", "raise?", "")})
	e := alice.recv()
	require.Equal(t, int64(7), e.Seq)
	require.Equal(t, pack.CodeForbidden, pack.ErrorOf(&e).Code)
	alice.send(pack.Message{Seq: 8, URI: pack.URIMessage, Body: []byte("not json")})
	e = alice.recv()
	require.Equal(t, pack.CodeBadRequest, pack.ErrorOf(&e).Code)
}

func TestMessagingOffByDefault(t *testing.T) {
	n := startNode(t, server.Config{})
	alice := app(t, n.Addr, "alice", nil)
	alice.send(pack.Message{Seq: 1, URI: pack.URIMessage, Body: messageReq("bob", "hi", "")})
	e := alice.recv()
	require.Equal(t, pack.CodeForbidden, pack.ErrorOf(&e).Code)
}

func TestConnectionQuota(t *testing.T) {
	n := startNode(t, server.Config{ConnFrameRate: 5})
	greedy := app(t, n.Addr, "greedy", nil)
	calm := app(t, n.Addr, "calm", nil)
	for i := range 20 {
		greedy.send(pack.Message{Seq: int64(i + 1), URI: pack.URIHeartbeat})
	}
	limited := 0
	for range 20 {
		m := greedy.recv()
		if m.URI == pack.URIError {
			require.Equal(t, pack.CodeRateLimited, pack.ErrorOf(&m).Code)
			limited++
		}
	}
	require.Greater(t, limited, 0, "over the quota is refused with 4029, never silently")
	require.Equal(t, float64(limited), metricValue(t, n, "plex_rate_limited_total", "connection"))
	calm.send(pack.Message{URI: pack.URIHeartbeat})
	require.Equal(t, pack.URIHeartbeat, calm.recv().URI, "other connections unaffected")
}

func TestAppPushQuota(t *testing.T) {
	n := startNode(t, server.Config{PushRate: 1, PushBurst: 3})
	app(t, n.Addr, "alice", nil)
	p := pusher(t, n.Addr)
	refused := 0
	for i := range 10 {
		_, cerr := p.push(int64(i+1), server.PushRequest{UID: "alice", URI: "/x"})
		if cerr != nil {
			require.Equal(t, pack.CodeRateLimited, cerr.Code)
			refused++
		}
	}
	require.GreaterOrEqual(t, refused, 6)
	code, _ := do(t, n.Handler(), "POST", "/plex/v1/push", secret, `{"uid":"alice","uri":"/x"}`)
	require.Equal(t, 429, code)
	require.GreaterOrEqual(t, metricValue(t, n, "plex_rate_limited_total", "app_pushes"), float64(refused+1))
}

// An app's store quota bounds the bytes its persistent pushes and
// /messages put in the store, per targeted user; over it a push is refused
// with 4029 (HTTP 429) and nothing is stored, while transient pushes flow.
func TestAppStoreQuota(t *testing.T) {
	st := server.NewMemoryStore(server.MemoryStoreConfig{})
	n := startNode(t, server.Config{Store: st, MaxFrame: 4096, StoreRate: 1, StoreBurst: 10_000,
		MessagePolicy: func(string, string) bool { return true }})
	p := pusher(t, n.Addr)
	body := strings.Repeat("x", 1000)
	stored, refused := 0, 0
	for i := range 20 {
		_, cerr := p.push(int64(i+1), server.PushRequest{UID: "bob", URI: "/x", Body: body, Persist: true})
		if cerr != nil {
			require.Equal(t, pack.CodeRateLimited, cerr.Code)
			refused++
			continue
		}
		stored++
	}
	require.Equal(t, stored, st.Len("bob"), "what was refused was not stored")
	require.InDelta(t, 9, stored, 1, "about StoreBurst / (body + overhead) stored")
	require.Positive(t, refused)
	_, cerr := p.push(100, server.PushRequest{UIDs: []string{"carol", "dave"}, URI: "/x", Body: body[:300], Persist: true})
	require.NotNil(t, cerr, "counted per targeted user: still over")
	require.Equal(t, pack.CodeRateLimited, cerr.Code)
	code, _ := do(t, n.Handler(), "POST", "/plex/v1/push", secret, `{"uid":"bob","uri":"/x","body":"`+body+`","persist":true}`)
	require.Equal(t, 429, code)
	out, cerr := p.push(101, server.PushRequest{UID: "bob", URI: "/x", Body: body}) // transient: not stored, not limited
	require.Nil(t, cerr)
	require.Equal(t, 1, out.Offline)

	a := app(t, n.Addr, "alice", nil) // /message is stored too
	a.send(pack.Message{Seq: 7, URI: pack.URIMessage, Body: []byte(`{"to":"bob","body":"` + body[:900] + `"}`)})
	m := a.recvSkipHeartbeat()
	require.Equal(t, pack.URIError, m.URI)
	require.Equal(t, pack.CodeRateLimited, pack.ErrorOf(&m).Code)
	require.GreaterOrEqual(t, metricValue(t, n, "plex_rate_limited_total", "app_store"), float64(refused+3))
}
