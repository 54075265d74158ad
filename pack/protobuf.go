package pack

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/plexpush/plex/pack/internal/wirepb"
)

// The protobuf codec uses the code generated from plex.proto. Marshalling is
// deterministic (map keys sorted) so that golden vectors are byte-exact.

var (
	protoMarshal   = proto.MarshalOptions{Deterministic: true}
	protoUnmarshal = proto.UnmarshalOptions{DiscardUnknown: true}
)

func appendProto(dst []byte, m *Message) ([]byte, error) {
	if !utf8.ValidString(m.URI) {
		return dst, ErrInvalidUTF8
	}
	for k, v := range m.Meta {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return dst, ErrInvalidUTF8
		}
	}
	pb := wirepb.Message{Seq: m.Seq, Uri: m.URI, Body: m.Body, Meta: m.Meta}
	out, err := protoMarshal.MarshalAppend(dst, &pb)
	if err != nil {
		return dst, fmt.Errorf("%w: %v", ErrBadProtobuf, err)
	}
	return out, nil
}

func decodeProto(b []byte, m *Message) error {
	var pb wirepb.Message
	if err := protoUnmarshal.Unmarshal(b, &pb); err != nil {
		// The protobuf runtime has no typed error for this case; its
		// message is stable and the invalid-UTF-8 vector pins it.
		if strings.Contains(err.Error(), "invalid UTF-8") {
			return ErrInvalidUTF8
		}
		return ErrBadProtobuf
	}
	m.Seq, m.URI, m.Body = pb.Seq, pb.Uri, pb.Body
	if len(m.Body) == 0 {
		m.Body = nil
	}
	clear(m.Meta)
	if len(pb.Meta) > 0 {
		if m.Meta == nil {
			m.Meta = pb.Meta
		} else {
			for k, v := range pb.Meta {
				m.Meta[k] = v
			}
		}
	}
	return nil
}
