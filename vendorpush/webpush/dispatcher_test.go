package webpush_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/vendorpush"
	"github.com/plexpush/plex/vendorpush/webpush/webpushtest"
)

// TestDispatcherRemovesExpiredSubscriptions: a push service's 404 or 410
// makes the Dispatcher remove the subscription from the registry; a
// subscription that works stays.
func TestDispatcherRemovesExpiredSubscriptions(t *testing.T) {
	for _, status := range []int{404, 410} {
		c, svc, _, _, _ := setup(t)
		reg := vendorpush.NewMemoryRegistry(0)
		live, gone := svc.Subscribe(), svc.Subscribe()
		require.NoError(t, reg.Add("alice", vendorpush.Device{Platform: vendorpush.WebPush, Token: live}))
		require.NoError(t, reg.Add("alice", vendorpush.Device{Platform: vendorpush.WebPush, Token: gone}))
		d, err := vendorpush.New(reg, map[vendorpush.Platform]vendorpush.Sender{vendorpush.WebPush: c}, vendorpush.Config{Concurrency: 1})
		require.NoError(t, err)
		// The first device registered is sent to first: it works; the second is gone.
		svc.Script(webpushtest.Reply{Status: 201}, webpushtest.Reply{Status: status})

		d.Hook("alice", &pack.Message{URI: "/chat", Body: []byte("hi"), Meta: map[string]string{"title": "Bob", "alert": "hi"}}, false)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		require.NoError(t, d.Shutdown(ctx))
		cancel()

		st := d.Stats()
		require.Equal(t, uint64(1), st.Sent, "status %d: stats %+v", status, st)
		require.Equal(t, uint64(1), st.Removed, "status %d: stats %+v", status, st)
		devs, _ := reg.Devices(t.Context(), "alice")
		require.Equal(t, []vendorpush.Device{{Platform: vendorpush.WebPush, Token: live}}, devs, "status %d", status)
		got := svc.Received()
		require.Len(t, got, 2)
		require.JSONEq(t, `{"title":"Bob","body":"hi","data":{"uri":"/chat","body":"hi"}}`, string(got[0].Plaintext))
	}
}
