package pack

import (
	"encoding/hex"
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/plexpush/plex/pack/internal/wirepb"
)

func toPB(m *Message) *wirepb.Message {
	return &wirepb.Message{Seq: m.Seq, Uri: m.URI, Body: m.Body, Meta: m.Meta}
}

// TestProtobufMatchesGenerated: the codec writes exactly what the generated
// code marshals deterministically, and decodes what it unmarshals.
func TestProtobufMatchesGenerated(t *testing.T) {
	msgs := []Message{{}, {Body: []byte{0}}, {Meta: map[string]string{"": ""}}}
	for _, c := range validCases() {
		msgs = append(msgs, c.msg)
	}
	r := rand.New(rand.NewPCG(11, 12))
	for range 5000 {
		m := randomMessage(r)
		if r.IntN(3) == 0 {
			m.Body = make([]byte, r.IntN(300))
			for i := range m.Body {
				m.Body[i] = byte(r.IntN(256)) // binary bodies are fine here
			}
		}
		msgs = append(msgs, m)
	}
	for i, m := range msgs {
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(toPB(&m))
		require.NoError(t, err)
		got, err := Protobuf.Append(nil, &m)
		require.NoError(t, err)
		require.Equal(t, hex.EncodeToString(want), hex.EncodeToString(got), "message %d: got our encoding, want proto.Marshal's", i)

		var pb wirepb.Message
		require.NoError(t, proto.Unmarshal(want, &pb))
		var dec Message
		require.NoError(t, Protobuf.Decode(want, &dec))
		require.Equal(t, pb.Seq, dec.Seq, "message %d seq", i)
		require.Equal(t, pb.Uri, dec.URI, "message %d uri", i)
		require.Equal(t, string(pb.Body), string(dec.Body), "message %d body", i)
		require.True(t, maps.Equal(pb.Meta, dec.Meta) || len(pb.Meta)+len(dec.Meta) == 0,
			"message %d: got meta %v, want %v", i, dec.Meta, pb.Meta)
	}
}

// TestProtobufEncodeInvalidUTF8: proto3 strings must be UTF-8; the body is
// bytes and may be anything.
func TestProtobufEncodeInvalidUTF8(t *testing.T) {
	bad := "\xc3\x28"
	msgs := map[string]Message{
		"uri":        {URI: bad},
		"meta key":   {URI: "/x", Meta: map[string]string{bad: "v"}},
		"meta value": {URI: "/x", Meta: map[string]string{"k": bad}},
	}
	for name, m := range msgs {
		got, err := Protobuf.Append([]byte("keep"), &m)
		require.ErrorIs(t, err, ErrInvalidUTF8, name)
		require.Equal(t, "keep", string(got), "%s: got dst, want it unchanged", name)
	}
	m := Message{URI: "/bin", Body: []byte(bad)}
	b, err := Protobuf.Append(nil, &m)
	require.NoError(t, err, "binary body")
	var got Message
	require.NoError(t, Protobuf.Decode(b, &got))
	requireSameMessage(t, m, got, "binary body round trip")
}

// TestProtobufEmptyBody: an empty body is the empty message on protobuf
// (every proto3 field has its default), but never a codec to detect.
func TestProtobufEmptyBody(t *testing.T) {
	m := Message{Seq: 1, URI: "/x", Meta: map[string]string{"a": "b"}}
	require.NoError(t, Protobuf.Decode(nil, &m))
	requireSameMessage(t, Message{}, m, "empty protobuf body")
	require.ErrorIs(t, JSON.Decode(nil, &m), ErrEmptyBody)
	require.ErrorIs(t, AutoCodec.Decode([]byte{}, &m), ErrEmptyBody)
}
