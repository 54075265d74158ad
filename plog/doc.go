// Package plog holds the small log/slog helpers every plex package shares:
// attribute key names, a Secret type that never prints its value, a nil-safe
// constructor that turns a nil *slog.Logger into a silent one, and a test
// logger that writes through testing.TB.Log.
//
// There is no package-level logger: every component takes a *slog.Logger in
// its Config.
package plog
