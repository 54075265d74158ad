// Package pack is the plex wire: frames, codecs, messages, reserved URIs and
// close/error codes, exactly as docs/protocol.md specifies them.
//
// A frame is a 4-byte unsigned body length (big-endian by default,
// little-endian when configured) followed by the body. The body is one
// Message encoded with the JSON codec (the shape the original plex spoke) or
// the protobuf codec (plex.proto).
//
// The package is pure: no I/O beyond the optional io.Reader/io.Writer
// adapters in stream.go, no goroutines, no logging, no package state that
// changes. The Decoder checks a frame's declared length against its limit
// before it buffers or allocates anything for the body, so a peer cannot make
// it allocate by lying about a length.
//
// Concurrency: Codec values and Order values are safe for concurrent use.
// A Decoder, Reader or Writer belongs to one goroutine at a time. A Shared
// frame may be used from any number of goroutines.
//
// Stability: the wire format is versioned by docs/protocol.md; the Go API
// follows semantic versioning of the module.
package pack
