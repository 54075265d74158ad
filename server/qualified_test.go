package server_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// TestQualifiedUIDIsUnambiguous: hooks never name two users alike. The
// default app's user "shop/alice" and app shop's alice used to both be
// "shop/alice", so vendor push devices registered under one were notified
// for the other.
func TestQualifiedUIDIsUnambiguous(t *testing.T) {
	require.Equal(t, "alice", server.QualifiedUID("", "alice"))
	require.Equal(t, "shop/alice", server.QualifiedUID("shop", "alice"))
	require.Equal(t, "/shop/alice", server.QualifiedUID("", "shop/alice"))
	require.Equal(t, "shop//x", server.QualifiedUID("shop", "/x"))

	online := make(chan string, 4)
	tokenIsUID := auth.Legacy(func(body string) (bool, string) { return true, body })
	n := startNode(t, server.Config{
		Authenticator: tokenIsUID,
		OnOnline:      func(uid string) { online <- uid },
		Apps:          []server.App{{ID: "shop", Authenticator: auth.None{}, InnerSecret: "shop-secret"}},
	})
	app(t, n.Addr, "shop/alice", nil)
	p := dial(t, n.Addr)
	p.auth("alice", map[string]string{pack.MetaApp: "shop"})
	var got []string
	for range 2 {
		select {
		case uid := <-online:
			got = append(got, uid)
		case <-time.After(5 * time.Second):
			t.Fatal("no online hook")
		}
	}
	require.ElementsMatch(t, []string{"/shop/alice", "shop/alice"}, got)
}
