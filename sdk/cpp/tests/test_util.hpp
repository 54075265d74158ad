// Helpers shared by the unit tests.
#pragma once

#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "plex/codec.hpp"
#include "plex/frame.hpp"
#include "plex/message.hpp"

namespace plex::test {

inline std::string unhex(std::string_view h) {
    auto nib = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2)
        out.push_back(static_cast<char>(nib(h[i]) << 4 | nib(h[i + 1])));
    return out;
}

inline std::string hex(std::string_view s) {
    static const char d[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out.push_back(d[c >> 4]);
        out.push_back(d[c & 15]);
    }
    return out;
}

// What a stream decodes to: the messages before the first error.
struct Outcome {
    std::vector<Message> msgs;
    std::error_code err;
};

// Feeds chunks to a decoder, decoding each body with codec c, then calls
// finish(). Every chunk is copied into one scratch buffer that is scribbled
// over after the decoder has drained it, as a socket read buffer would be,
// so a decoder that kept a view it should have copied is caught (the same
// harness as pack/vectors_test.go's decodeStream).
inline Outcome decode_stream(Order o, Codec c, std::uint32_t limit,
                             const std::vector<std::string>& chunks) {
    Outcome res;
    FrameDecoder d(o, limit);
    std::string scratch;
    for (const auto& chunk : chunks) {
        scratch.assign(chunk);
        d.feed(scratch.data(), scratch.size());
        for (;;) {
            std::string_view body;
            std::error_code ec;
            if (!d.next(body, ec)) {
                if (ec) {
                    res.err = ec;
                    return res;
                }
                break;
            }
            Message m;
            if (auto dec = decode(c, body, m)) {
                res.err = dec;
                return res;
            }
            res.msgs.push_back(std::move(m));
        }
        for (auto& ch : scratch) ch = '\xEE';
    }
    res.err = d.finish();
    return res;
}

// The frame whose body is body.
inline std::string frame_of(Order o, std::string_view body) {
    std::string f(header_size, '\0');
    put_header(o, reinterpret_cast<unsigned char*>(f.data()), static_cast<std::uint32_t>(body.size()));
    f.append(body);
    return f;
}

} // namespace plex::test
