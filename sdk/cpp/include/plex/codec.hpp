// plex C++ SDK: message codecs (sans-IO).
//
// JSON is the shape the original plex spoke; its encoder produces exactly
// the bytes the Go node's encoder (and encoding/json) produces: keys in the
// order seq, uri, body, meta; empty fields omitted; meta keys sorted;
// HTML-safe escapes (\u003c \u003e \u0026 \u2028 \u2029); control
// characters as \n \r \t \b \f or \u00xx. Decoding is strict: invalid UTF-8
// is an error, known fields with the wrong type are an error, seq must be an
// integer, unknown fields are ignored, null means absent.
//
// Protobuf is pack/plex.proto's Message; available when the SDK was built
// with PLEX_PROTOBUF=ON (see protobuf_available()).
#pragma once

#include <string>
#include <string_view>
#include <system_error>

#include "plex/frame.hpp"
#include "plex/message.hpp"

namespace plex {

enum class Codec { json, protobuf };

// True when the SDK was built with the protobuf codec.
bool protobuf_available() noexcept;

// The codec of a node's first frame body: JSON bodies start with '{'.
// errc::empty_body for an empty body.
std::error_code detect_codec(std::string_view body, Codec& out) noexcept;

// Appends m encoded with codec c to out. On error out is unchanged.
std::error_code encode(Codec c, const Message& m, std::string& out);

// Decodes body into m (replacing all of m's fields).
std::error_code decode(Codec c, std::string_view body, Message& m);

// Appends one whole frame (header + body) holding m to out. A body longer
// than limit is errc::frame_too_large (limit 0: no limit beyond 4 GiB - 1).
// On error out is unchanged.
std::error_code append_frame(std::string& out, Order o, Codec c, const Message& m,
                             std::uint32_t limit = 0);

namespace json {
std::error_code encode(const Message& m, std::string& out);
std::error_code decode(std::string_view body, Message& m);
// Appends s as a JSON string exactly as Go's encoding/json quotes it.
// errc::invalid_utf8 when s is not UTF-8 (out is then partially written).
std::error_code append_string(std::string& out, std::string_view s);
} // namespace json

// True when s is valid UTF-8 (RFC 3629: no overlongs, no surrogates).
bool valid_utf8(std::string_view s) noexcept;

} // namespace plex
