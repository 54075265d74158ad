#include "plex/codec.hpp"

#include "plex/errc.hpp"
#include "protobuf_codec.hpp"

namespace plex {

bool protobuf_available() noexcept { return detail::protobuf_built_in(); }

std::error_code detect_codec(std::string_view body, Codec& out) noexcept {
    if (body.empty()) return errc::empty_body;
    out = body[0] == '{' ? Codec::json : Codec::protobuf;
    return {};
}

std::error_code encode(Codec c, const Message& m, std::string& out) {
    if (c == Codec::protobuf) return detail::protobuf_encode(m, out);
    return json::encode(m, out);
}

std::error_code decode(Codec c, std::string_view body, Message& m) {
    if (c == Codec::protobuf) return detail::protobuf_decode(body, m);
    return json::decode(body, m);
}

std::error_code append_frame(std::string& out, Order o, Codec c, const Message& m,
                             std::uint32_t limit) {
    const std::size_t start = out.size();
    out.append(header_size, '\0');
    if (auto ec = encode(c, m, out)) {
        out.resize(start);
        return ec;
    }
    const std::size_t n = out.size() - start - header_size;
    if (n > 0xFFFFFFFFu || (limit != 0 && n > limit)) {
        out.resize(start);
        return errc::frame_too_large;
    }
    put_header(o, reinterpret_cast<unsigned char*>(&out[start]), static_cast<std::uint32_t>(n));
    return {};
}

} // namespace plex
