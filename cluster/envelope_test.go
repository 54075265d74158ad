package cluster_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/cluster"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	for _, d := range []server.Delivery{
		{Origin: "n1", To: server.User("alice"), Msg: pack.Message{URI: "/u", Body: []byte("hi")}, Prev: -1},
		{Origin: "n2", To: server.User("a.b c*>\x00é"), Msg: pack.Message{Seq: 1 << 50, URI: "/p", Body: []byte{0xff, 0},
			Meta: map[string]string{pack.MetaPersist: "1", pack.MetaID: "x"}}, Persist: true, Prev: 1<<50 - 3},
		{Origin: "n3", To: server.Room("r").In("app"), Msg: pack.Message{URI: "/r"}},
		{Origin: "n4", To: server.Everyone(), Msg: pack.Message{URI: "/all", Body: make([]byte, 70000)}},
		{To: server.Users("a", "b"), Msg: pack.Message{URI: "/m"}},
	} {
		b, err := cluster.AppendEnvelope(nil, &d)
		require.NoError(t, err)
		var got server.Delivery
		require.NoError(t, cluster.DecodeEnvelope(b, &got))
		if d.Msg.Body == nil {
			d.Msg.Body = got.Msg.Body // nil and empty are one on the wire
		}
		if len(d.Msg.Meta) == 0 {
			got.Msg.Meta, d.Msg.Meta = nil, nil
		}
		require.Equal(t, d, got)
	}
}

func TestEnvelopeRejectsGarbage(t *testing.T) {
	good, err := cluster.AppendEnvelope(nil, &server.Delivery{Origin: "n1", To: server.User("alice"), Msg: pack.Message{URI: "/u"}})
	require.NoError(t, err)
	for name, b := range map[string][]byte{
		"empty":           nil,
		"version":         append([]byte{9}, good[1:]...),
		"truncated":       good[:5],
		"huge length":     {1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"target not json": {1, 0, 0, 0, 3, 'x', 'y', 'z'},
	} {
		var d server.Delivery
		require.ErrorIs(t, cluster.DecodeEnvelope(b, &d), cluster.ErrBadEnvelope, name)
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	for _, d := range []server.Delivery{
		{Origin: "n1", To: server.User("alice"), Msg: pack.Message{URI: "/u", Body: []byte("hi")}},
		{Origin: "n2", To: server.Room("r"), Persist: true, Prev: 7, Msg: pack.Message{Seq: 9, URI: "/p", Meta: map[string]string{"k": "v"}}},
	} {
		b, _ := cluster.AppendEnvelope(nil, &d)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d server.Delivery
		if cluster.DecodeEnvelope(b, &d) != nil {
			return
		}
		// what decodes re-encodes and decodes to the same delivery
		b2, err := cluster.AppendEnvelope(nil, &d)
		if err != nil {
			return // e.g. a body that is fine in protobuf but a target JSON cannot hold
		}
		var d2 server.Delivery
		require.NoError(t, cluster.DecodeEnvelope(b2, &d2))
		require.Equal(t, d.Origin, d2.Origin)
		require.Equal(t, d.Prev, d2.Prev)
		require.Equal(t, d.Msg.Seq, d2.Msg.Seq)
		require.Equal(t, string(d.Msg.Body), string(d2.Msg.Body))
	})
}
