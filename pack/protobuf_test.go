package pack

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
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

// protoDifferential decodes b with the codec and with the generated code's
// proto.Unmarshal: both must succeed or fail alike (invalid UTF-8 apart
// from other malformations) and agree on the message.
func protoDifferential(b []byte) string {
	var pb wirepb.Message
	pbErr := proto.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, &pb)
	var m Message
	err := Protobuf.Decode(b, &m)
	switch {
	case pbErr != nil && err != nil:
		if want := strings.Contains(pbErr.Error(), "invalid UTF-8"); want != errors.Is(err, ErrInvalidUTF8) {
			return fmt.Sprintf("proto.Unmarshal fails with %v, we with %v", pbErr, err)
		}
		return ""
	case pbErr != nil:
		return fmt.Sprintf("proto.Unmarshal fails (%v), we decode %+v", pbErr, m)
	case err != nil:
		return fmt.Sprintf("proto.Unmarshal decodes %v, we fail (%v)", &pb, err)
	}
	if pb.Seq != m.Seq || pb.Uri != m.URI || !bytes.Equal(pb.Body, m.Body) ||
		!(maps.Equal(pb.Meta, m.Meta) || len(pb.Meta)+len(m.Meta) == 0) {
		return fmt.Sprintf("proto.Unmarshal decodes %v, we decode %+v", &pb, m)
	}
	return ""
}

// TestProtobufDecodeMatchesGenerated runs the differential over the vectors'
// protobuf bodies and hand-picked malformations.
func TestProtobufDecodeMatchesGenerated(t *testing.T) {
	var corpus [][]byte
	f := loadVectors(t)
	for _, v := range f.Valid {
		if v.Codec == "protobuf" {
			corpus = append(corpus, mustHex(t, v.FrameHex)[HeaderSize:])
		}
	}
	for _, v := range f.DecodeOnly {
		if v.Codec == "protobuf" {
			corpus = append(corpus, mustHex(t, v.FrameHex)[HeaderSize:])
		}
	}
	for _, v := range f.Invalid {
		if fr := mustHex(t, v.FrameHex); v.Codec == "protobuf" && len(fr) >= HeaderSize {
			corpus = append(corpus, fr[HeaderSize:])
		}
	}
	for _, s := range []string{
		"", "\x08", "\x08\x80\x00", "\x0a\x01x", "\x10\x05", "\x15\x01\x02\x03\x04", "\x19\x01\x02\x03\x04\x05\x06\x07\x08",
		"\x12\x05/chat\x0b\x0c", "\x12\x05/chat\x0c", "\x12\x05/chat\x0b\x08\x01\x0c", "\x0b\x14\x0c",
		"\x22\x03\x08\x01\x12", "\x22\x04\x08\x01\x12\x00", "\x22\x00", "\x22\x02\x0a\x00", "\x22\x02\x12\x00",
		"\x22\x04\x0a\x00\x0a\x00", "\x22\x03\x0b\x0c\x00", "\x22\x02\x0c\x00", "\x22\x06\xf8\xff\xff\xff\x1f\x01",
		"\xf8\xff\xff\xff\x0f\x01", "\xf8\xff\xff\xff\x1f\x01", "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02",
		"\x0b\xfc\xff\xff\xff\x1f\x0c", "\x0b\xf8\xff\xff\xff\x1f\x01\x0c", "\x1a\x00", "\x12\x00", "\x08\x00",
		"\x12\x01\xff\x1a\x05", "\x1a\x05\x12\x01\xff", "\x22\x05\x0a\x01\xff\x12\x00",
	} {
		corpus = append(corpus, []byte(s))
	}
	r := rand.New(rand.NewPCG(13, 14))
	for range 3000 {
		m := randomMessage(r)
		b, err := Protobuf.Append(nil, &m)
		require.NoError(t, err)
		corpus = append(corpus, b)
		if len(b) > 0 { // and a mutation of it
			c := bytes.Clone(b)
			c[r.IntN(len(c))] = byte(r.IntN(256))
			corpus = append(corpus, c[:r.IntN(len(c)+1)])
		}
	}
	for _, b := range corpus {
		require.Empty(t, protoDifferential(b), "input %x", b)
	}
}

// TestProtobufGroupDepth: unknown groups nest as deep as the runtime allows.
func TestProtobufGroupDepth(t *testing.T) {
	for _, n := range []int{1, 100, 10000, 10001, 10002, 10003} {
		b := append(bytes.Repeat([]byte{0x0b}, n), bytes.Repeat([]byte{0x0c}, n)...) // field 1 groups
		require.Empty(t, protoDifferential(b), "%d nested groups", n)
		var m Message
		err := Protobuf.Decode(b, &m)
		if n <= 10001 {
			require.NoError(t, err, "%d nested groups", n)
		} else {
			require.ErrorIs(t, err, ErrBadProtobuf, "%d nested groups", n)
		}
	}
}
