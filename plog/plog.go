package plog

import (
	"context"
	"log/slog"
)

// Attribute keys used across plex, so that logs from every component can be
// filtered the same way.
const (
	KeyConn   = "conn"   // connection id
	KeyUID    = "uid"    // user id
	KeyRemote = "remote" // remote address
	KeyNode   = "node"   // node id
	KeyCode   = "code"   // pack.Code
	KeyURI    = "uri"    // message URI
	KeyErr    = "err"    // error
	KeyRoom   = "room"   // room name
	KeyAddr   = "addr"   // listen address
)

// Secret is a string that logs as REDACTED: tokens, passwords, keys.
type Secret string

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// String also redacts, so fmt verbs cannot leak the value.
func (Secret) String() string { return "REDACTED" }

// GoString redacts for %#v.
func (Secret) GoString() string { return "REDACTED" }

// Reveal returns the secret's value, for the one place that must use it.
func (s Secret) Reveal() string { return string(s) }

// OrDiscard returns l, or a logger that drops everything when l is nil.
func OrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(discard{})
	}
	return l
}

// Err is slog.Any(KeyErr, err).
func Err(err error) slog.Attr { return slog.Any(KeyErr, err) }

type discard struct{}

func (discard) Enabled(context.Context, slog.Level) bool  { return false }
func (discard) Handle(context.Context, slog.Record) error { return nil }
func (d discard) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d discard) WithGroup(string) slog.Handler           { return d }
