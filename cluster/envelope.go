package cluster

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// A delivery travels between nodes as one NATS message body:
//
//	byte    version (1)
//	byte    flags: 1 = persistent
//	uvarint len, origin node id
//	varint  prev (Delivery.Prev; -1 unknown)
//	uvarint len, target as JSON (server.Target, every field kept)
//	rest    the message in the protobuf codec of docs/protocol.md §7
//
// The message part is what an app would receive, encoded once; the
// target is JSON so that fields added to server.Target travel unchanged.
const envelopeVersion = 1

const flagPersist = 1

// maxEnvelopeString bounds the origin and target parts (a uid list of a
// multi-user push may be long; the NATS payload limit bounds the rest).
const maxEnvelopeString = 1 << 20

func appendEnvelope(dst []byte, d *server.Delivery) ([]byte, error) {
	to, err := json.Marshal(d.To)
	if err != nil {
		return nil, err
	}
	var flags byte
	if d.Persist {
		flags |= flagPersist
	}
	dst = append(dst, envelopeVersion, flags)
	dst = binary.AppendUvarint(dst, uint64(len(d.Origin)))
	dst = append(dst, d.Origin...)
	dst = binary.AppendVarint(dst, d.Prev)
	dst = binary.AppendUvarint(dst, uint64(len(to)))
	dst = append(dst, to...)
	return pack.Protobuf.Append(dst, &d.Msg)
}

// decodeEnvelope decodes a delivery. The message body may alias b.
func decodeEnvelope(b []byte, d *server.Delivery) error {
	if len(b) < 2 {
		return fmt.Errorf("%w: %d bytes", ErrBadEnvelope, len(b))
	}
	if b[0] != envelopeVersion {
		return fmt.Errorf("%w: version %d", ErrBadEnvelope, b[0])
	}
	d.Persist = b[1]&flagPersist != 0
	b = b[2:]
	origin, b, err := readString(b)
	if err != nil {
		return err
	}
	d.Origin = string(origin)
	prev, n := binary.Varint(b)
	if n <= 0 {
		return fmt.Errorf("%w: prev", ErrBadEnvelope)
	}
	d.Prev, b = prev, b[n:]
	to, b, err := readString(b)
	if err != nil {
		return err
	}
	d.To = server.Target{}
	if err := json.Unmarshal(to, &d.To); err != nil {
		return fmt.Errorf("%w: target: %w", ErrBadEnvelope, err)
	}
	if err := pack.Protobuf.Decode(b, &d.Msg); err != nil {
		return fmt.Errorf("%w: message: %w", ErrBadEnvelope, err)
	}
	return nil
}

func readString(b []byte) (s, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > maxEnvelopeString || n > uint64(len(b)-k) {
		return nil, nil, fmt.Errorf("%w: length", ErrBadEnvelope)
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}
