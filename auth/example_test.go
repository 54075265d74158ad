package auth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/pack"
)

func ExampleNewJWT() {
	secret := []byte("a-secret-of-at-least-32-bytes!!!") // plexd: auth.LoadJWTKey(*jwtSecret)
	clock := func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }

	a, err := auth.NewJWT(auth.JWTConfig{
		HMACSecret: secret,
		Issuer:     "https://id.example.com",
		Leeway:     5 * time.Second,
		Now:        clock, // tests only; nil means time.Now
	})
	if err != nil {
		panic(err)
	}

	// The identity provider issues this to the app.
	token, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "alice",
		"iss": "https://id.example.com",
		"exp": clock().Add(time.Hour).Unix(),
	}).SignedString(secret)

	uid, err := a.Authenticate(context.Background(), token, nil)
	fmt.Println(uid, err)

	_, err = a.Authenticate(context.Background(), token+"x", nil)
	fmt.Println(errors.Is(err, pack.CodeAuthFailed), err)
	// Output:
	// alice <nil>
	// true plex: 4001 auth failed: bad signature
}

func ExampleNewWebhook() {
	// The application's endpoint: it knows which tokens are valid.
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer node-secret" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if string(body) == `{"token":"t-alice","remote":""}` {
			_, _ = io.WriteString(w, `{"uid":"alice"}`)
			return
		}
		_, _ = io.WriteString(w, `{"ok":false,"reason":"unknown session"}`)
	}))
	defer app.Close()

	a, err := auth.NewWebhook(auth.WebhookConfig{
		URL:    app.URL + "/plex/auth",
		Header: http.Header{"Authorization": {"Bearer node-secret"}},
	})
	if err != nil {
		panic(err)
	}
	defer a.CloseIdleConnections()

	uid, err := a.Authenticate(context.Background(), "t-alice", nil)
	fmt.Println(uid, err)
	_, err = a.Authenticate(context.Background(), "t-mallory", nil)
	fmt.Println(err)

	app.Close() // the endpoint is down: not the app's fault, so not terminal
	_, err = a.Authenticate(context.Background(), "t-alice", nil)
	fmt.Println(errors.Is(err, auth.ErrUnavailable), errors.Is(err, pack.CodeAuthFailed))
	// Output:
	// alice <nil>
	// plex: 4001 auth failed: unknown session
	// true false
}

func ExampleNone() {
	var a auth.None
	uid, err := a.Authenticate(context.Background(), "device-42", nil)
	fmt.Println(uid, err)
	_, err = a.Authenticate(context.Background(), "no spaces please", nil)
	fmt.Println(err)
	// Output:
	// device-42 <nil>
	// plex: 4001 auth failed: token has characters outside [A-Za-z0-9._@:-]
}

func ExampleValidUID() {
	fmt.Println(auth.ValidUID("alice@example.com"), auth.ValidUID("alice/bob"))
	// Output: true false
}

func ExampleLegacy() {
	// A callback written for the original plex: the body is the token.
	users := map[string]string{"t-1": "alice"}
	a := auth.Legacy(func(body string) (bool, string) {
		uid, ok := users[body]
		if !ok {
			return false, "unknown token"
		}
		return true, uid
	})

	uid, err := a.Authenticate(context.Background(), "t-1", nil)
	fmt.Println(uid, err)
	_, err = a.Authenticate(context.Background(), "t-2", nil)
	fmt.Println(err)
	// Output:
	// alice <nil>
	// plex: 4001 auth failed: unknown token
}

func ExampleFunc() {
	errDB := errors.New("sessions: database unavailable")
	a := auth.Func(func(ctx context.Context, token string, _ net.Addr) (string, error) {
		switch token {
		case "s-1":
			return "alice", nil
		case "s-down":
			return "", errDB // the node answers 3005: retry later
		}
		return "", &pack.CodeError{Code: pack.CodeAuthFailed, Reason: "no such session"}
	})

	for _, token := range []string{"s-1", "s-2", "s-down"} {
		uid, err := a.Authenticate(context.Background(), token, nil)
		fmt.Printf("%q %v terminal=%v\n", uid, err, errors.Is(err, pack.CodeAuthFailed))
	}
	// Output:
	// "alice" <nil> terminal=false
	// "" plex: 4001 auth failed: no such session terminal=true
	// "" sessions: database unavailable terminal=false
}
