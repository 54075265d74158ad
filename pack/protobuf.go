package pack

import (
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// The protobuf codec reads and writes plex.proto's Message directly with
// protowire, the primitives the protobuf runtime itself is built on, rather
// than through the generated code: proto.Marshal and proto.Unmarshal go
// through reflection and cost ~17-22 allocations and over a microsecond
// per message, which is most of a node's per-message budget. The generated
// code (internal/wirepb) stays the reference: protobuf_test.go and
// FuzzProtobuf check, byte for byte and error for error, that this codec
// agrees with proto.MarshalOptions{Deterministic: true} and proto.Unmarshal.
//
// Encoding is proto3's deterministic form: fields in number order, zero
// values omitted, map entries sorted by key with both key and value written.
// Decoding follows proto.Unmarshal: unknown fields (and known numbers with
// an unexpected wire type) are skipped, the last value of a repeated scalar
// wins, strings must be UTF-8.

// Field tags of plex.proto's Message and of its map entries.
const (
	tagSeq      = 1<<3 | byte(protowire.VarintType) // 0x08
	tagURI      = 2<<3 | byte(protowire.BytesType)  // 0x12
	tagBody     = 3<<3 | byte(protowire.BytesType)  // 0x1a
	tagMeta     = 4<<3 | byte(protowire.BytesType)  // 0x22
	tagMapKey   = 1<<3 | byte(protowire.BytesType)  // 0x0a
	tagMapValue = 2<<3 | byte(protowire.BytesType)  // 0x12
)

func appendProto(dst []byte, m *Message) ([]byte, error) {
	if !utf8.ValidString(m.URI) {
		return dst, ErrInvalidUTF8
	}
	if m.Seq != 0 {
		dst = append(dst, tagSeq)
		dst = protowire.AppendVarint(dst, uint64(m.Seq)) // two's complement, not zig-zag
	}
	if m.URI != "" {
		dst = append(dst, tagURI)
		dst = protowire.AppendString(dst, m.URI)
	}
	if len(m.Body) > 0 {
		dst = append(dst, tagBody)
		dst = protowire.AppendBytes(dst, m.Body)
	}
	if len(m.Meta) > 0 {
		var arr [8]string
		for _, k := range sortedKeys(arr[:0], m.Meta) {
			v := m.Meta[k]
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return dst, ErrInvalidUTF8
			}
			dst = append(dst, tagMeta)
			dst = protowire.AppendVarint(dst, uint64(2+protowire.SizeBytes(len(k))+protowire.SizeBytes(len(v))))
			dst = append(dst, tagMapKey)
			dst = protowire.AppendString(dst, k)
			dst = append(dst, tagMapValue)
			dst = protowire.AppendString(dst, v)
		}
	}
	return dst, nil
}

// consumeTag reads a tag as proto.Unmarshal does: field numbers 1 to 2^29-1.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 || num > protowire.MaxValidNumber {
		return 0, 0, -1
	}
	return num, typ, n
}

func decodeProto(b []byte, m *Message) error {
	m.Seq, m.URI, m.Body = 0, "", nil
	clear(m.Meta)
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 || typ == protowire.EndGroupType { // no group is open here
			return ErrBadProtobuf
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return ErrBadProtobuf
			}
			m.Seq = int64(v)
			b = b[n:]
		case num == 2 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return ErrBadProtobuf
			}
			if !utf8.Valid(v) {
				return ErrInvalidUTF8
			}
			m.URI = internURI(v)
			b = b[n:]
		case num == 3 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return ErrBadProtobuf
			}
			if len(v) == 0 {
				m.Body = nil
			} else {
				m.Body = append([]byte(nil), v...)
			}
			b = b[n:]
		case num == 4 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return ErrBadProtobuf
			}
			if err := decodeProtoEntry(v, m); err != nil {
				return err
			}
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return ErrBadProtobuf
			}
			b = b[n:]
		}
	}
	return nil
}

// decodeProtoEntry reads one meta map entry; a missing key or value is "".
func decodeProtoEntry(b []byte, m *Message) error {
	var key, value []byte
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return ErrBadProtobuf
		}
		b = b[n:]
		if (num == 1 || num == 2) && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return ErrBadProtobuf
			}
			if !utf8.Valid(v) {
				return ErrInvalidUTF8
			}
			if num == 1 {
				key = v
			} else {
				value = v
			}
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return ErrBadProtobuf
		}
		b = b[n:]
	}
	if m.Meta == nil {
		m.Meta = make(map[string]string, 4)
	}
	m.Meta[string(key)] = string(value)
	return nil
}
