package pack

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// MaxNameLen is the longest user id, room name or device id a node
// accepts, in bytes (docs/protocol.md §20). Names become keys of the
// node's registries and, in a cluster, NATS subject tokens and KV keys
// (base64: 4/3 longer, and a room member key holds two names), which NATS
// bounds by its 4 KiB control line. 256 bytes is ample for any id a
// product issues (a UUID is 36, an e-mail address at most 254) and keeps
// every subject far below that bound.
const MaxNameLen = 256

// MaxAppIDLen is the longest app id (meta "app"), in bytes.
const MaxAppIDLen = 64

// ErrBadName: a user id, room name, device id or app id that a node
// refuses. Every error of ValidName and ValidAppID wraps it (errors.Is);
// nodes answer it with CodeBadRequest (4004), or CodeAuthFailed (4001)
// for a uid that an authenticator returned.
var ErrBadName = errors.New("pack: invalid name")

// NameError says why a name was refused. It never quotes the name, which
// may be long or hold control characters.
type NameError struct {
	Reason string // e.g. "empty", "longer than 256 bytes", "control character U+001F at byte 4"
}

func (e *NameError) Error() string { return ErrBadName.Error() + ": " + e.Reason }

// Is makes errors.Is(err, ErrBadName) true.
func (e *NameError) Is(target error) bool { return target == ErrBadName }

// ValidName reports whether s may be a user id, room name or device id:
// 1 to MaxNameLen bytes of UTF-8 with no control character (C0, DEL, C1:
// U+0000–U+001F, U+007F–U+009F). It returns nil or a *NameError.
//
// Every path into a node checks names with it, so a name can never hold
// U+001F, the separator of the node's internal app-scoped keys, nor make a
// cluster subject exceed NATS's limits. Clients use it to refuse a name
// locally, without a round trip.
func ValidName(s string) error {
	switch {
	case s == "":
		return &NameError{Reason: "empty"}
	case len(s) > MaxNameLen:
		return &NameError{Reason: "longer than " + strconv.Itoa(MaxNameLen) + " bytes"}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return controlError(rune(c), i)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			return &NameError{Reason: "invalid UTF-8 at byte " + strconv.Itoa(i)}
		case r <= 0x9f:
			return controlError(r, i)
		}
		i += n
	}
	return nil
}

func controlError(r rune, at int) error {
	const digits = "0123456789ABCDEF"
	u := []byte{'U', '+', '0', '0', digits[r>>4&0xf], digits[r&0xf]} // controls are ≤ U+009F
	return &NameError{Reason: "control character " + string(u) + " at byte " + strconv.Itoa(at)}
}

// ValidAppID reports whether id may name an app (meta "app"): 1 to
// MaxAppIDLen bytes of [A-Za-z0-9._-]. It returns nil or a *NameError.
func ValidAppID(id string) error {
	if id == "" || len(id) > MaxAppIDLen {
		return &NameError{Reason: "app id must be 1-" + strconv.Itoa(MaxAppIDLen) + " bytes"}
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return &NameError{Reason: "app id byte " + strconv.Itoa(i) + " is not one of [A-Za-z0-9._-]"}
		}
	}
	return nil
}
