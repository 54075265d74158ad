package cluster

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/plexpush/plex/pack"
)

// names are the subjects, stream and buckets of one plex cluster, all
// derived from Config.Prefix so that several plex clusters can share a
// NATS system:
//
//	<p>.u.<uid>     a user's pushes and presence queries (a node subscribes while it holds the user)
//	<p>.r.<room>    room pushes (every node subscribes to <p>.r.*; each writes to its members)
//	<p>.all         broadcasts
//	<p>.nodes       node heartbeats (discovery, load)
//	<p>.m.<uid>     stored pushes: subjects of the stream <P>_MSGS, one per user
//	<p>.m.~probe    the stream's health probe (Cluster.probe), a message that expires in 1s
//	<p>_rooms       KV bucket of room membership, key <room>.<uid>
//	<p>_cursors     KV bucket of ack cursors, key <uid>
//	<p>_devices     KV bucket of vendor push devices (DeviceRegistry), keys u.<uid>, t.<token hash>;
//	                created on first use, so only by nodes with vendor push
//	<p>.acktimeout  ack deadlines: the subject of the work-queue stream <P>_ACKTIMEOUTS
//	                (acktimeouts.go), created only by nodes with an ack-timeout fallback
//
// User ids and room names may hold any bytes (even '.', '*', '>' or
// spaces, which subjects cannot): each is one subject token in unpadded
// URL-safe base64 (key), which is reversible and collision-free.
type names struct {
	user, room, all, nodes, msgs string // subject prefixes / subjects
	probe                        string // the stream's probe subject (Cluster.probe)
	stream, rooms, cursors       string // JetStream names
	devices                      string // JetStream name, used only with vendor push
	ackSubject, ackStream        string // ack deadlines, used only with an ack-timeout fallback
}

func newNames(prefix string) names {
	return names{
		user:    prefix + ".u.",
		room:    prefix + ".r.",
		all:     prefix + ".all",
		nodes:   prefix + ".nodes",
		msgs:    prefix + ".m.",
		probe:   prefix + ".m.~probe", // "~" is never in key()'s base64: no user's subject
		stream:  strings.ToUpper(prefix) + "_MSGS",
		rooms:   prefix + "_rooms",
		cursors: prefix + "_cursors",
		devices: prefix + "_devices",

		ackSubject: prefix + ".acktimeout",
		ackStream:  strings.ToUpper(prefix) + "_ACKTIMEOUTS",
	}
}

// maxNameLen bounds a name (a uid or room key, scoped by its app: up to
// 64+1+256 bytes from a server that checks names, pack.ValidName) that the
// cluster puts in a subject or KV key. A NATS server refuses a protocol
// line over its max_control_line (4 KiB by default) and closes the
// connection; base64 makes a name 4/3 longer and a room member key holds
// two, so 1 KiB per name keeps the longest line (HPUB $KV.<bucket>.<room>.
// <uid> <reply inbox> <sizes>) under 3 KiB.
const maxNameLen = 1024

// checkName refuses a name too long for a subject token, before anything
// is published or subscribed: a server whose own limits changed (or a bug)
// must not cost the node its NATS connection. The error wraps
// pack.ErrBadName.
func checkName(name string) error {
	if len(name) > maxNameLen {
		return fmt.Errorf("cluster: a name of %d bytes is over the %d-byte limit of NATS subjects: %w",
			len(name), maxNameLen, pack.ErrBadName)
	}
	return nil
}

// key encodes a name as one subject token (and KV key part). The empty
// name, which plex never routes, becomes "-", which base64 cannot produce.
func key(name string) string {
	if name == "" {
		return "-"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(name))
}

// unkey reverses key.
func unkey(tok string) (string, bool) {
	if tok == "-" {
		return "", true
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	return string(b), err == nil
}

// tail returns the subject's token after prefix p, or false.
func tail(subject, p string) (string, bool) {
	t, ok := strings.CutPrefix(subject, p)
	return t, ok && t != "" && !strings.Contains(t, ".")
}

// validPrefix reports whether p can name subjects, a stream and buckets.
func validPrefix(p string) bool {
	if p == "" || len(p) > 32 {
		return false
	}
	for _, r := range p {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}
