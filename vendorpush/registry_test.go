package vendorpush_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/vendorpush"
)

func TestMemoryRegistry(t *testing.T) {
	ctx := t.Context()
	r := vendorpush.NewMemoryRegistry(3)
	a1 := vendorpush.Device{Platform: vendorpush.APNs, Token: "a1"}
	f1 := vendorpush.Device{Platform: vendorpush.FCM, Token: "f1"}
	same := vendorpush.Device{Platform: vendorpush.FCM, Token: "a1"} // same token, other platform: another device

	require.NoError(t, r.Add("alice", a1))
	require.NoError(t, r.Add("alice", f1))
	require.NoError(t, r.Add("alice", same))
	devs, err := r.Devices(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, []vendorpush.Device{a1, f1, same}, devs)

	// Adding again makes it the newest; the fourth device evicts the oldest.
	require.NoError(t, r.Add("alice", a1))
	require.NoError(t, r.Add("alice", vendorpush.Device{Platform: vendorpush.APNs, Token: "a2"}))
	devs, _ = r.Devices(ctx, "alice")
	require.Equal(t, []vendorpush.Device{same, a1, {Platform: vendorpush.APNs, Token: "a2"}}, devs, "f1 was the oldest")
	require.Equal(t, 3, r.Len())

	// A token moves to the user who registers it last.
	require.NoError(t, r.Add("bob", a1))
	devs, _ = r.Devices(ctx, "alice")
	require.NotContains(t, devs, a1, "alice still gets bob's device")
	devs, _ = r.Devices(ctx, "bob")
	require.Equal(t, []vendorpush.Device{a1}, devs)

	// Remove only removes the token from the user who holds it.
	require.NoError(t, r.Remove(ctx, "alice", a1))
	devs, _ = r.Devices(ctx, "bob")
	require.Equal(t, []vendorpush.Device{a1}, devs, "alice's stale removal took bob's device")
	require.NoError(t, r.Remove(ctx, "bob", a1))
	devs, _ = r.Devices(ctx, "bob")
	require.Empty(t, devs)
	require.NoError(t, r.Remove(ctx, "nobody", a1))

	// The returned slice is the caller's.
	devs, _ = r.Devices(ctx, "alice")
	devs[0].Token = "changed"
	again, _ := r.Devices(ctx, "alice")
	require.NotEqual(t, "changed", again[0].Token)

	require.ErrorIs(t, r.Add("", a1), vendorpush.ErrBadConfig)
	require.ErrorIs(t, r.Add("x", vendorpush.Device{Platform: vendorpush.APNs}), vendorpush.ErrBadConfig)
	require.ErrorIs(t, r.Add("x", vendorpush.Device{Token: "t"}), vendorpush.ErrBadConfig)
}

// TestMemoryRegistryDeviceID: a token keeps the plex device id it was
// registered with; registering it again with another id updates the id,
// never adds a second entry; removal goes by the token, whatever the id.
func TestMemoryRegistryDeviceID(t *testing.T) {
	ctx := t.Context()
	r := vendorpush.NewMemoryRegistry(0)
	phone := vendorpush.Device{Platform: vendorpush.FCM, Token: "tok-1", ID: "phone"}
	tablet := vendorpush.Device{Platform: vendorpush.FCM, Token: "tok-2", ID: "tablet"}
	require.NoError(t, r.Add("alice", phone))
	require.NoError(t, r.Add("alice", tablet))
	devs, err := r.Devices(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, []vendorpush.Device{phone, tablet}, devs)

	// The app reinstalled under a new device id, same token: updated in
	// place of the old entry, and the newest.
	renamed := vendorpush.Device{Platform: vendorpush.FCM, Token: "tok-1", ID: "phone-2"}
	require.NoError(t, r.Add("alice", renamed))
	devs, _ = r.Devices(ctx, "alice")
	require.Equal(t, []vendorpush.Device{tablet, renamed}, devs, "the token twice, or its old id")
	require.Equal(t, 2, r.Len())

	// Registered again without an id (an app that sends none): the id is
	// what the last registration said.
	require.NoError(t, r.Add("alice", vendorpush.Device{Platform: vendorpush.FCM, Token: "tok-2"}))
	devs, _ = r.Devices(ctx, "alice")
	require.Equal(t, []vendorpush.Device{renamed, {Platform: vendorpush.FCM, Token: "tok-2"}}, devs)

	// Moving to another user, with another id, moves the one entry.
	require.NoError(t, r.Add("bob", vendorpush.Device{Platform: vendorpush.FCM, Token: "tok-1", ID: "bobs"}))
	devs, _ = r.Devices(ctx, "alice")
	require.Equal(t, []vendorpush.Device{{Platform: vendorpush.FCM, Token: "tok-2"}}, devs)
	devs, _ = r.Devices(ctx, "bob")
	require.Equal(t, []vendorpush.Device{{Platform: vendorpush.FCM, Token: "tok-1", ID: "bobs"}}, devs)
	require.Equal(t, 2, r.Len())

	// Remove goes by platform and token: an unregister that does not know
	// the id, or knows an old one, removes the token.
	require.NoError(t, r.Remove(ctx, "bob", vendorpush.Device{Platform: vendorpush.FCM, Token: "tok-1"}))
	require.NoError(t, r.Remove(ctx, "alice", vendorpush.Device{Platform: vendorpush.FCM, Token: "tok-2", ID: "tablet"}))
	require.Zero(t, r.Len())
	devs, _ = r.Devices(ctx, "bob")
	require.Empty(t, devs)
}

func TestDeviceSameToken(t *testing.T) {
	d := vendorpush.Device{Platform: vendorpush.FCM, Token: "t", ID: "phone"}
	require.True(t, d.SameToken(vendorpush.Device{Platform: vendorpush.FCM, Token: "t"}))
	require.True(t, d.SameToken(vendorpush.Device{Platform: vendorpush.FCM, Token: "t", ID: "tablet"}))
	require.False(t, d.SameToken(vendorpush.Device{Platform: vendorpush.APNs, Token: "t", ID: "phone"}))
	require.False(t, d.SameToken(vendorpush.Device{Platform: vendorpush.FCM, Token: "u", ID: "phone"}))
}

func TestMemoryRegistryConcurrent(t *testing.T) {
	r := vendorpush.NewMemoryRegistry(0)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				uid := fmt.Sprint("u", i%5)
				d := vendorpush.Device{Platform: vendorpush.FCM, Token: fmt.Sprint("t", g, "-", i%20)}
				_ = r.Add(uid, d)
				_, _ = r.Devices(t.Context(), uid)
				if i%3 == 0 {
					_ = r.Remove(t.Context(), uid, d)
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for i := range 5 {
		devs, _ := r.Devices(t.Context(), fmt.Sprint("u", i))
		require.LessOrEqual(t, len(devs), vendorpush.DefaultMaxDevices)
		total += len(devs)
	}
	require.Equal(t, total, r.Len(), "the token index and the user lists disagree")
}

func TestRedact(t *testing.T) {
	require.Equal(t, "5f1c2b…(64)", vendorpush.Redact("5f1c2b7a9e0d4c3b8a6f1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4e5f607"))
	require.Equal(t, "…(12)", vendorpush.Redact("123456789012"))
	require.Equal(t, "…(0)", vendorpush.Redact(""))
}
