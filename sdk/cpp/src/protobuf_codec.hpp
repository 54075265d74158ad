// Internal: the protobuf codec (real when built with PLEX_PROTOBUF=ON).
#pragma once

#include <string>
#include <string_view>
#include <system_error>

#include "plex/message.hpp"

namespace plex::detail {

bool protobuf_built_in() noexcept;
std::error_code protobuf_encode(const Message& m, std::string& out);
std::error_code protobuf_decode(std::string_view body, Message& m);

// Walks a protobuf Message body the way the Go node's decoder checks it and
// reports the first problem in input order: errc::invalid_utf8 for a string
// field (uri, meta key or value) that is not UTF-8, errc::bad_protobuf for
// broken wire structure, {} when it is valid. Always built (it needs no
// protobuf library) so it is unit-tested in every configuration.
std::error_code protobuf_validate(std::string_view body) noexcept;

} // namespace plex::detail
