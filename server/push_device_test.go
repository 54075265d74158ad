package server_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/auth"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
	"github.com/plexpush/plex/server"
)

// devices logs alice in three times, one connection per device, and once
// without a device id (an original app).
func devices(t *testing.T, addr string, acks bool) map[string]*peer {
	t.Helper()
	out := make(map[string]*peer)
	for _, dev := range []string{"phone", "laptop", "tablet", ""} {
		meta := map[string]string{}
		if dev != "" {
			meta[pack.MetaDevice] = dev
		}
		if acks {
			meta[pack.MetaAcks] = "1"
		}
		out[dev] = app(t, addr, "alice", meta)
	}
	return out
}

func requireSilent(t *testing.T, p *peer, why string) {
	t.Helper()
	m, err := p.tryRecv(100 * time.Millisecond)
	require.Error(t, err, "%s; got %+v", why, m)
}

func TestTransientPushToOneDevice(t *testing.T) {
	n := startNode(t, server.Config{})
	devs := devices(t, n.Addr, false)
	out, err := n.Push(ctx(t), server.Device("alice", "laptop"), pack.Message{URI: "/x", Body: []byte("for the laptop")})
	require.NoError(t, err)
	require.Equal(t, server.Outcome{Delivered: 1}, out)
	m := devs["laptop"].recv()
	require.Equal(t, "for the laptop", string(m.Body))
	require.Equal(t, "laptop", m.Meta[pack.MetaDevice], "the node names the device it pushed to")
	for _, dev := range []string{"phone", "tablet", ""} {
		requireSilent(t, devs[dev], "device "+dev+" must not get the laptop's push")
	}

	// A device with no connection: offline, even though alice is online.
	out, err = n.Push(ctx(t), server.Device("alice", "watch"), pack.Message{URI: "/x"})
	require.NoError(t, err)
	require.Equal(t, server.Outcome{Offline: 1}, out)

	// A pusher's own meta "device" on a push to the user is not a target:
	// the node's values win (protocol §9), every device gets it.
	out, err = n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/y", Meta: map[string]string{pack.MetaDevice: "phone", "k": "v"}})
	require.NoError(t, err)
	require.Equal(t, server.Outcome{Delivered: 4}, out)
	for dev, p := range devs {
		m := p.recv()
		require.Equal(t, "/y", m.URI, dev)
		require.NotContains(t, m.Meta, pack.MetaDevice, dev)
		require.Equal(t, "v", m.Meta["k"], dev)
	}
}

func TestPersistentPushToOneDeviceWaitsForIt(t *testing.T) {
	n := startNode(t, server.Config{})
	acks := func(dev string) map[string]string {
		return map[string]string{pack.MetaDevice: dev, pack.MetaAcks: "1"}
	}
	// The laptop registers its cursor, then goes away.
	app(t, n.Addr, "alice", acks("laptop")).c.Close()
	phone := app(t, n.Addr, "alice", acks("phone"))
	eventually(t, func() bool { return metricValue(t, n, "plex_connections", "") == 1 }, "the laptop's connection closed")

	out, err := n.Push(ctx(t), server.Device("alice", "laptop"), pack.Message{URI: "/x", Body: []byte("later")}, server.Persist(0))
	require.NoError(t, err)
	require.Equal(t, int64(1), out.Seq)
	require.Equal(t, server.Outcome{Stored: 1, Offline: 1, Seq: 1}, out, "stored for the laptop; the laptop has no connection")
	requireSilent(t, phone, "the phone must not get the laptop's push")

	// A push to every device after it: the phone gets seq 2 only.
	_, err = n.Push(ctx(t), server.User("alice"), pack.Message{URI: "/x", Body: []byte("all")}, server.Persist(0))
	require.NoError(t, err)
	m := phone.recv()
	require.Equal(t, int64(2), m.Seq)
	phone.send(pack.Message{URI: pack.URIAck, Seq: 2})

	laptop := app(t, n.Addr, "alice", acks("laptop"))
	m = laptop.recv()
	require.Equal(t, int64(1), m.Seq, "the laptop's push waited for it")
	require.Equal(t, "later", string(m.Body))
	require.Equal(t, "laptop", m.Meta[pack.MetaDevice])
	require.Equal(t, int64(2), laptop.recv().Seq)
	laptop.send(pack.Message{URI: pack.URIAck, Seq: 2})

	// A new phone connection replays nothing it acked, and never seq 1.
	phone.c.Close()
	phone = app(t, n.Addr, "alice", acks("phone"))
	requireSilent(t, phone, "the phone acked 2; seq 1 was never its push")

	// Both devices acked everything: nothing is left in the store.
	eventually(t, func() bool { return n.Store.(*server.MemoryStore).Len("alice") == 0 }, "acked by the device it was for, dropped")
}

func TestDevicePushThroughPushClient(t *testing.T) {
	_, addr, inner := startInnerNode(t, server.Config{Authenticator: auth.None{}, InnerSecret: secret, Logger: plog.Test(t)})
	devs := devices(t, addr, false)
	p := pusher(t, inner)
	out, cerr := p.push(1, server.PushRequest{UID: "alice", Device: "tablet", URI: "/x", Body: "t"})
	require.Nil(t, cerr)
	require.Equal(t, server.Outcome{Delivered: 1}, out)
	require.Equal(t, "t", string(devs["tablet"].recv().Body))
	requireSilent(t, devs["phone"], "only the tablet")

	for _, req := range []server.PushRequest{
		{Device: "tablet", URI: "/x"},                          // no uid
		{UIDs: []string{"alice"}, Device: "tablet", URI: "/x"}, // not with uids
		{Room: "r", Device: "tablet", URI: "/x"},               // nor a room
		{UID: "alice", Device: "bad\x00id", URI: "/x"},         // not a name
	} {
		_, cerr := p.push(2, req)
		require.NotNil(t, cerr, "%+v", req)
		require.Equal(t, pack.CodeBadRequest, cerr.Code, "%+v", req)
	}
}
