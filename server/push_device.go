package server

import "github.com/plexpush/plex/pack"

// Pushes to one device of a user (Device, PushRequest.device).
//
// A device push carries the node's meta "device" (docs/protocol.md §9: the
// node's values win; a pusher's own "device" is dropped from every other
// push). The meta travels with the message everywhere it goes, through the
// bus to other nodes and into the Store, so one rule at each write decides:
// a connection of another device skips it (forDevice). A persistent device
// push is stored under the user's seqs like any other; the other devices
// never receive it, so they see a gap in seqs (seqs may have gaps anyway,
// §12), and their later acks pass it.

// deviceMeta returns m with meta "device" set to device (a device push), or
// without a pusher's own "device" (device ""). It copies the meta only when
// it changes.
func deviceMeta(m pack.Message, device string) pack.Message {
	if _, has := m.Meta[pack.MetaDevice]; !has && device == "" {
		return m
	}
	meta := make(map[string]string, len(m.Meta)+1)
	for k, v := range m.Meta {
		if k != pack.MetaDevice {
			meta[k] = v
		}
	}
	if device != "" {
		meta[pack.MetaDevice] = device
	}
	m.Meta = meta
	return m
}

// forDevice reports whether s may receive m: m is for every device of its
// user, or for s's.
func forDevice(s *Session, m *pack.Message) bool {
	dev, ok := m.Meta[pack.MetaDevice]
	return !ok || dev == s.device
}
