package cluster_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"log"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/cluster"
	"github.com/plexpush/plex/cluster/embedded"
	"github.com/plexpush/plex/plog"
	"github.com/plexpush/plex/vendorpush"
)

// newCluster returns a Cluster with its own connection to s (closed when
// the test ends): one plex node, as far as the registry is concerned.
func newCluster(t *testing.T, s *embedded.Server) *cluster.Cluster {
	t.Helper()
	nc, err := s.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	c, err := cluster.New(cluster.Config{Conn: nc, Logger: plog.Test(t)})
	require.NoError(t, err)
	return c
}

func devicesOf(t *testing.T, r *cluster.DeviceRegistry, uid string) []vendorpush.Device {
	t.Helper()
	devs, err := r.Devices(ctxTimeout(t, waitFor), uid)
	require.NoError(t, err)
	return devs
}

// TestDeviceRegistry follows vendorpush's TestMemoryRegistry: the rules
// are the same.
func TestDeviceRegistry(t *testing.T) {
	ctx := ctxTimeout(t, waitFor)
	r := newCluster(t, natsServers(t, 1)[0]).Devices(3)
	a1 := vendorpush.Device{Platform: vendorpush.APNs, Token: "a1"}
	f1 := vendorpush.Device{Platform: vendorpush.FCM, Token: "f1"}
	same := vendorpush.Device{Platform: vendorpush.FCM, Token: "a1"} // same token, other platform: another device
	a2 := vendorpush.Device{Platform: vendorpush.APNs, Token: "a2"}

	require.Empty(t, devicesOf(t, r, "alice"), "no devices is not an error")
	require.NoError(t, r.Add(ctx, "alice", a1))
	require.NoError(t, r.Add(ctx, "alice", f1))
	require.NoError(t, r.Add(ctx, "alice", same))
	require.Equal(t, []vendorpush.Device{a1, f1, same}, devicesOf(t, r, "alice"))

	// Adding again makes it the newest; the fourth device evicts the oldest.
	require.NoError(t, r.Add(ctx, "alice", a1))
	require.NoError(t, r.Add(ctx, "alice", a1), "adding the newest again changes nothing")
	require.NoError(t, r.Add(ctx, "alice", a2))
	require.Equal(t, []vendorpush.Device{same, a1, a2}, devicesOf(t, r, "alice"), "f1 was the oldest")

	// An evicted token is nobody's: another user takes it without touching alice.
	require.NoError(t, r.Add(ctx, "carol", f1))
	require.Equal(t, []vendorpush.Device{f1}, devicesOf(t, r, "carol"))
	require.Equal(t, []vendorpush.Device{same, a1, a2}, devicesOf(t, r, "alice"))

	// A token moves to the user who registers it last.
	require.NoError(t, r.Add(ctx, "bob", a1))
	require.Equal(t, []vendorpush.Device{same, a2}, devicesOf(t, r, "alice"), "alice still gets bob's device")
	require.Equal(t, []vendorpush.Device{a1}, devicesOf(t, r, "bob"))
	// and back: it is alice's newest again, bob's no more.
	require.NoError(t, r.Add(ctx, "alice", a1))
	require.Equal(t, []vendorpush.Device{same, a2, a1}, devicesOf(t, r, "alice"))
	require.Empty(t, devicesOf(t, r, "bob"))
	require.NoError(t, r.Add(ctx, "bob", a1))

	// Remove only removes the token from the user who holds it.
	require.NoError(t, r.Remove(ctx, "alice", a1))
	require.Equal(t, []vendorpush.Device{a1}, devicesOf(t, r, "bob"), "alice's stale removal took bob's device")
	require.NoError(t, r.Remove(ctx, "bob", a1))
	require.Empty(t, devicesOf(t, r, "bob"))
	require.NoError(t, r.Remove(ctx, "bob", a1), "removing what is gone")
	require.NoError(t, r.Remove(ctx, "nobody", a1))
	require.NoError(t, r.Remove(ctx, "alice", vendorpush.Device{Platform: vendorpush.APNs, Token: "never-seen"}))
	require.NoError(t, r.Add(ctx, "bob", a1), "a removed token can be registered again")
	require.Equal(t, []vendorpush.Device{a1}, devicesOf(t, r, "bob"))

	// The returned slice is the caller's.
	devs := devicesOf(t, r, "alice")
	devs[0].Token = "changed"
	require.NotEqual(t, "changed", devicesOf(t, r, "alice")[0].Token)

	// Any bytes in uids and tokens.
	odd := vendorpush.Device{Platform: "fcm:project b", Token: "a.b*c>d e/é"}
	require.NoError(t, r.Add(ctx, "shop/a.b*>  é", odd))
	require.Equal(t, []vendorpush.Device{odd}, devicesOf(t, r, "shop/a.b*>  é"))

	require.ErrorIs(t, r.Add(ctx, "", a1), vendorpush.ErrBadConfig)
	require.ErrorIs(t, r.Add(ctx, "x", vendorpush.Device{Platform: vendorpush.APNs}), vendorpush.ErrBadConfig)
	require.ErrorIs(t, r.Add(ctx, "x", vendorpush.Device{Token: "t"}), vendorpush.ErrBadConfig)
}

// TestDeviceRegistryDefaultBound: zero means vendorpush.DefaultMaxDevices.
func TestDeviceRegistryDefaultBound(t *testing.T) {
	ctx := ctxTimeout(t, waitFor)
	r := newCluster(t, natsServers(t, 1)[0]).Devices(0)
	for i := range vendorpush.DefaultMaxDevices + 2 {
		require.NoError(t, r.Add(ctx, "alice", vendorpush.Device{Platform: vendorpush.FCM, Token: fmt.Sprint("t", i)}))
	}
	devs := devicesOf(t, r, "alice")
	require.Len(t, devs, vendorpush.DefaultMaxDevices)
	require.Equal(t, "t2", devs[0].Token, "the two oldest went")
	require.Equal(t, fmt.Sprint("t", vendorpush.DefaultMaxDevices+1), devs[len(devs)-1].Token)
}

// TestDeviceRegistrySharedByNodes: a device registered on one node is
// known to the others, and changes made anywhere are seen everywhere.
func TestDeviceRegistrySharedByNodes(t *testing.T) {
	ctx := ctxTimeout(t, waitFor)
	s := natsServers(t, 1)[0]
	n1, n2 := newCluster(t, s).Devices(5), newCluster(t, s).Devices(5)
	phone := vendorpush.Device{Platform: vendorpush.APNs, Token: "phone"}
	tablet := vendorpush.Device{Platform: vendorpush.FCM, Token: "tablet"}

	require.NoError(t, n1.Add(ctx, "alice", phone))
	require.Equal(t, []vendorpush.Device{phone}, devicesOf(t, n2, "alice"), "registered on node 1, pushed from node 2")
	require.NoError(t, n2.Add(ctx, "alice", tablet))
	require.Equal(t, []vendorpush.Device{phone, tablet}, devicesOf(t, n1, "alice"))

	require.NoError(t, n2.Add(ctx, "bob", phone), "the phone changed accounts on node 2")
	require.Equal(t, []vendorpush.Device{tablet}, devicesOf(t, n1, "alice"))
	require.Equal(t, []vendorpush.Device{phone}, devicesOf(t, n1, "bob"))

	require.NoError(t, n1.Remove(ctx, "alice", tablet), "node 1's dispatcher: invalid token")
	require.Empty(t, devicesOf(t, n2, "alice"))
}

// TestDeviceRegistryConcurrentNodes: two nodes adding devices for one user
// at the same moment lose none of them.
func TestDeviceRegistryConcurrentNodes(t *testing.T) {
	const perNode, goroutines, each = 2, 3, 4 // 24 devices in all
	s := natsServers(t, 1)[0]
	var nodes []*cluster.DeviceRegistry
	for range perNode {
		nodes = append(nodes, newCluster(t, s).Devices(100))
	}
	ctx := ctxTimeout(t, 2*waitFor)
	var wg sync.WaitGroup
	errs := make(chan error, perNode*goroutines*each)
	want := map[vendorpush.Device]bool{}
	for n, r := range nodes {
		for g := range goroutines {
			var devs []vendorpush.Device
			for i := range each {
				d := vendorpush.Device{Platform: vendorpush.FCM, Token: fmt.Sprintf("n%d-g%d-%d", n, g, i)}
				devs = append(devs, d)
				want[d] = true
			}
			wg.Go(func() {
				for _, d := range devs {
					errs <- r.Add(ctx, "alice", d)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for _, r := range nodes {
		got := devicesOf(t, r, "alice")
		require.Len(t, got, len(want), "devices lost to concurrent updates")
		for _, d := range got {
			require.True(t, want[d], "unexpected %v", d)
		}
	}
}

// TestDeviceRegistryConcurrentMixed follows vendorpush's
// TestMemoryRegistryConcurrent on two nodes: adds, moves and removes from
// many goroutines leave every user within the bound and every token with
// at most one user.
func TestDeviceRegistryConcurrentMixed(t *testing.T) {
	const maxDevs = 4
	s := natsServers(t, 1)[0]
	nodes := []*cluster.DeviceRegistry{newCluster(t, s).Devices(maxDevs), newCluster(t, s).Devices(maxDevs)}
	ctx := ctxTimeout(t, 2*waitFor)
	var wg sync.WaitGroup
	for g := range 4 {
		r := nodes[g%2]
		wg.Go(func() {
			for i := range 24 {
				uid := fmt.Sprint("u", (g+i)%3)
				d := vendorpush.Device{Platform: vendorpush.FCM, Token: fmt.Sprint("t", i%6)} // shared by the goroutines: tokens move
				if err := r.Add(ctx, uid, d); err != nil {
					t.Error(err)
					return
				}
				if _, err := r.Devices(ctx, uid); err != nil {
					t.Error(err)
					return
				}
				if i%4 == 0 {
					if err := r.Remove(ctx, uid, d); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	seen := map[vendorpush.Device]string{}
	for i := range 3 {
		uid := fmt.Sprint("u", i)
		devs := devicesOf(t, nodes[i%2], uid)
		require.LessOrEqual(t, len(devs), maxDevs)
		for _, d := range devs {
			prev, dup := seen[d]
			require.False(t, dup, "%v belongs to %s and %s", d, prev, uid)
			seen[d] = uid
		}
	}
}

// TestDeviceRegistryDeviceID follows vendorpush's
// TestMemoryRegistryDeviceID: a token keeps the plex device id it was
// registered with, in the bucket too; registering it again with another id
// updates the id of its one entry; removal goes by the token, whatever
// the id.
func TestDeviceRegistryDeviceID(t *testing.T) {
	ctx := ctxTimeout(t, waitFor)
	s := natsServers(t, 1)[0]
	r := newCluster(t, s).Devices(0)
	phone := vendorpush.Device{Platform: vendorpush.FCM, Token: "tok-1", ID: "phone"}
	tablet := vendorpush.Device{Platform: vendorpush.FCM, Token: "tok-2", ID: "tablet"}
	require.NoError(t, r.Add(ctx, "alice", phone))
	require.NoError(t, r.Add(ctx, "alice", tablet))
	require.Equal(t, []vendorpush.Device{phone, tablet}, devicesOf(t, newCluster(t, s).Devices(0), "alice"), "read by another node")
	require.JSONEq(t, `[{"p":"fcm","t":"tok-1","d":"phone"},{"p":"fcm","t":"tok-2","d":"tablet"}]`, rawList(t, s, "alice"))

	// The newest registered again with another id: rewritten, not kept as
	// it was (the "nothing changed" shortcut compares the id too).
	tablet2 := vendorpush.Device{Platform: vendorpush.FCM, Token: "tok-2", ID: "tablet-2"}
	require.NoError(t, r.Add(ctx, "alice", tablet2))
	require.Equal(t, []vendorpush.Device{phone, tablet2}, devicesOf(t, r, "alice"))
	// An older one with another id: one entry, the newest.
	renamed := vendorpush.Device{Platform: vendorpush.FCM, Token: "tok-1", ID: "phone-2"}
	require.NoError(t, r.Add(ctx, "alice", renamed))
	require.Equal(t, []vendorpush.Device{tablet2, renamed}, devicesOf(t, r, "alice"), "the token twice, or its old id")
	// Without an id (an app that sends none): the id is what the last
	// registration said.
	noID := vendorpush.Device{Platform: vendorpush.FCM, Token: "tok-2"}
	require.NoError(t, r.Add(ctx, "alice", noID))
	require.Equal(t, []vendorpush.Device{renamed, noID}, devicesOf(t, r, "alice"))
	require.JSONEq(t, `[{"p":"fcm","t":"tok-1","d":"phone-2"},{"p":"fcm","t":"tok-2"}]`, rawList(t, s, "alice"))

	// Moving to another user, with another id, moves the one entry.
	bobs := vendorpush.Device{Platform: vendorpush.FCM, Token: "tok-1", ID: "bobs"}
	require.NoError(t, r.Add(ctx, "bob", bobs))
	require.Equal(t, []vendorpush.Device{noID}, devicesOf(t, r, "alice"))
	require.Equal(t, []vendorpush.Device{bobs}, devicesOf(t, r, "bob"))

	// Remove goes by platform and token: an unregister that does not know
	// the id, or knows an old one, removes the token.
	require.NoError(t, r.Remove(ctx, "bob", vendorpush.Device{Platform: vendorpush.FCM, Token: "tok-1"}))
	require.NoError(t, r.Remove(ctx, "alice", tablet))
	require.Empty(t, devicesOf(t, r, "alice"))
	require.Empty(t, devicesOf(t, r, "bob"))
}

// TestDeviceRegistryEntriesWithoutID: a user's list written before devices
// had ids reads as devices with ID ""; registering such a token with an id
// updates its entry, never adds a second one.
func TestDeviceRegistryEntriesWithoutID(t *testing.T) {
	ctx := ctxTimeout(t, waitFor)
	s := natsServers(t, 1)[0]
	r := newCluster(t, s).Devices(0)
	require.Empty(t, devicesOf(t, r, "alice")) // creates the bucket
	kv := devicesBucket(t, s)
	_, err := kv.Put(ctx, "u.YWxpY2U", []byte(`[{"p":"fcm","t":"old-1"},{"p":"apns","t":"old-2"}]`))
	require.NoError(t, err)
	old1 := vendorpush.Device{Platform: vendorpush.FCM, Token: "old-1"}
	old2 := vendorpush.Device{Platform: vendorpush.APNs, Token: "old-2"}
	require.Equal(t, []vendorpush.Device{old1, old2}, devicesOf(t, r, "alice"))

	phone := vendorpush.Device{Platform: vendorpush.FCM, Token: "old-1", ID: "phone"}
	require.NoError(t, r.Add(ctx, "alice", phone))
	require.Equal(t, []vendorpush.Device{old2, phone}, devicesOf(t, r, "alice"))
	require.JSONEq(t, `[{"p":"apns","t":"old-2"},{"p":"fcm","t":"old-1","d":"phone"}]`, rawList(t, s, "alice"))
	require.NoError(t, r.Remove(ctx, "alice", old2))
	require.Equal(t, []vendorpush.Device{phone}, devicesOf(t, r, "alice"))
}

// devicesBucket opens the devices bucket through a connection of the
// test's.
func devicesBucket(t *testing.T, s *embedded.Server) jetstream.KeyValue {
	t.Helper()
	nc, err := s.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	kv, err := js.KeyValue(ctxTimeout(t, waitFor), "plex_devices")
	require.NoError(t, err)
	return kv
}

// rawList returns the bucket's value of uid's list (uid in base64 without
// padding, as the key is documented).
func rawList(t *testing.T, s *embedded.Server, uid string) string {
	t.Helper()
	e, err := devicesBucket(t, s).Get(ctxTimeout(t, waitFor), "u."+base64.RawURLEncoding.EncodeToString([]byte(uid)))
	require.NoError(t, err)
	return string(e.Value())
}

// TestDeviceRegistryDurable: the devices outlive the node that registered
// them, and the NATS server's restart.
func TestDeviceRegistryDurable(t *testing.T) {
	ctx := ctxTimeout(t, waitFor)
	dir := t.TempDir()
	s, err := embedded.Start(embedded.Config{StoreDir: dir, Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	defer func() { s.Shutdown() }()
	phone := vendorpush.Device{Platform: vendorpush.APNs, Token: "phone"}
	require.NoError(t, newCluster(t, s).Devices(0).Add(ctx, "alice", phone))

	require.Equal(t, []vendorpush.Device{phone}, devicesOf(t, newCluster(t, s).Devices(0), "alice"), "a new node on the same NATS")

	s.Shutdown()
	s, err = embedded.Start(embedded.Config{StoreDir: dir, Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	r := newCluster(t, s).Devices(0)
	require.Eventually(t, func() bool {
		devs, err := r.Devices(ctx, "alice")
		return err == nil && len(devs) == 1 && devs[0] == phone
	}, waitFor, 50*time.Millisecond, "devices after a NATS restart")
}

// TestDeviceRegistryBucket: the bucket appears on first use only (a node
// without vendor push never creates it), with the documented settings.
func TestDeviceRegistryBucket(t *testing.T) {
	ctx := ctxTimeout(t, waitFor)
	s := natsServers(t, 1)[0]
	c := newCluster(t, s)
	require.NoError(t, c.Open(ctx))
	nc, err := s.Connect()
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	_, err = js.KeyValue(ctx, "plex_devices")
	require.ErrorIs(t, err, jetstream.ErrBucketNotFound, "created without vendor push")

	r := c.Devices(0)
	require.Empty(t, devicesOf(t, r, "alice"))
	kv, err := js.KeyValue(ctx, "plex_devices")
	require.NoError(t, err)
	st, err := kv.Status(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, st.History())
	info := st.(*jetstream.KeyValueBucketStatus).StreamInfo()
	require.Equal(t, jetstream.FileStorage, info.Config.Storage)

	// Keys: the user in base64, the token hashed (never in clear).
	require.NoError(t, r.Add(ctx, "alice", vendorpush.Device{Platform: vendorpush.FCM, Token: "secret-token"}))
	keys, err := kv.Keys(ctx)
	require.NoError(t, err)
	require.Len(t, keys, 2)
	require.Contains(t, keys, "u.YWxpY2U")
	for _, k := range keys {
		require.NotContains(t, k, "secret-token")
	}
}

// TestDeviceRegistryUnavailable: without NATS, every call fails with
// ErrUnavailable rather than answering "no devices".
func TestDeviceRegistryUnavailable(t *testing.T) {
	ctx := ctxTimeout(t, waitFor)
	s := natsServers(t, 1)[0]
	dev := vendorpush.Device{Platform: vendorpush.APNs, Token: "phone"}
	for _, opened := range []bool{false, true} {
		nc, err := s.Connect(nats.MaxReconnects(0))
		require.NoError(t, err)
		c, err := cluster.New(cluster.Config{Conn: nc, RequestTimeout: time.Second})
		require.NoError(t, err)
		r := c.Devices(0)
		if opened {
			require.NoError(t, r.Add(ctx, "alice", dev))
		}
		nc.Close()
		_, err = r.Devices(ctx, "alice")
		require.ErrorIs(t, err, cluster.ErrUnavailable, "opened %v", opened)
		require.ErrorIs(t, r.Add(ctx, "alice", dev), cluster.ErrUnavailable, "opened %v", opened)
		require.ErrorIs(t, r.Remove(ctx, "alice", dev), cluster.ErrUnavailable, "opened %v", opened)
	}
}

// Device tokens shared by every node: register on the node the app is
// connected to, look up wherever the push is handled.
func ExampleCluster_Devices() {
	dir, err := os.MkdirTemp("", "plex-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ns, err := embedded.Start(embedded.Config{StoreDir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer ns.Shutdown()
	nc, err := ns.Connect()
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	c, err := cluster.New(cluster.Config{Conn: nc})
	if err != nil {
		log.Fatal(err)
	}

	reg := c.Devices(0) // give it to vendorpush.New as its DeviceRegistry
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// ID: the plex device id of the connection that registered the token
	// (its meta "device"), so that a push to that device falls back to it.
	phone := vendorpush.Device{Platform: vendorpush.APNs, Token: "5f1c2b7a", ID: "phone"}
	if err := reg.Add(ctx, "alice", phone); err != nil {
		log.Fatal(err)
	}
	devs, err := reg.Devices(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(devs)
	// Output: [{apns 5f1c2b7a phone}]
}
