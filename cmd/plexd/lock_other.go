//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package main

const canLock = false

// lockDir does not lock where flock is missing: give each plexd its own
// -data-dir.
func lockDir(string) (func(), error) { return func() {}, nil }
