package vendorpush_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
	"github.com/plexpush/plex/vendorpush"
)

// TestServerOfflineHook wires a Dispatcher into a real node: a push to a
// user with no connection becomes a vendor notification.
func TestServerOfflineHook(t *testing.T) {
	reg := vendorpush.NewMemoryRegistry(0)
	require.NoError(t, reg.Add("alice", vendorpush.Device{Platform: vendorpush.FCM, Token: "fcm-token-of-alice"}))
	rec := &recorder{}
	d := start(t, reg, map[vendorpush.Platform]vendorpush.Sender{vendorpush.FCM: rec}, vendorpush.Config{})

	srv, err := server.New(server.Config{OnUndelivered: d.Hook})
	require.NoError(t, err)
	out, err := srv.Push(t.Context(), server.User("alice"), pack.Message{
		URI:  "/chat",
		Body: []byte(`{"text":"are you there?"}`),
		Meta: map[string]string{vendorpush.MetaTitle: "Bob", vendorpush.MetaAlert: "are you there?"},
	}, server.Persist(0))
	require.NoError(t, err)
	require.Zero(t, out.Delivered, "alice has no connection")

	require.NoError(t, srv.Shutdown(t.Context())) // runs the hooks still queued
	require.NoError(t, d.Shutdown(t.Context()))   // sends what they queued

	got := rec.got()
	require.Len(t, got, 1, "notifications sent")
	n := got[0]
	require.Equal(t, "fcm-token-of-alice", n.Token)
	require.Equal(t, "Bob", n.Title)
	require.Equal(t, "are you there?", n.Body)
	require.Equal(t, "/chat", n.Data[vendorpush.DataURI])
	require.Equal(t, `{"text":"are you there?"}`, n.Data[vendorpush.DataBody])
	require.Equal(t, "1", n.Data[vendorpush.DataPersist])
	require.NotEmpty(t, n.Data[vendorpush.DataSeq], "a stored push has a seq")
}
