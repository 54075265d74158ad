package pack

import "encoding/binary"

// Order is the byte order of a frame's 4-byte length header.
// The zero value is BigEndian, the order the original plex used.
type Order uint8

const (
	// BigEndian is the default and what the original plex spoke.
	BigEndian Order = iota
	// LittleEndian is an option for peers that want it; both sides must agree.
	LittleEndian
)

// String returns "big" or "little".
func (o Order) String() string {
	if o == LittleEndian {
		return "little"
	}
	return "big"
}

// ParseOrder accepts "big", "big-endian", "little" and "little-endian".
func ParseOrder(s string) (Order, error) {
	switch s {
	case "", "big", "big-endian", "be":
		return BigEndian, nil
	case "little", "little-endian", "le":
		return LittleEndian, nil
	}
	return BigEndian, ErrUnknownOrder
}

func (o Order) binary() binary.ByteOrder {
	if o == LittleEndian {
		return binary.LittleEndian
	}
	return binary.BigEndian
}

// PutHeader writes n as a frame header into b[:4].
func (o Order) PutHeader(b []byte, n uint32) { o.binary().PutUint32(b, n) }

// Header reads a frame header from b[:4].
func (o Order) Header(b []byte) uint32 { return o.binary().Uint32(b) }
