// Internal: UTF-8 decoding as Go's unicode/utf8.DecodeRune does it.
#pragma once

#include <cstddef>
#include <string_view>

namespace plex::detail {

// Decodes the rune at s[i] (s[i] >= 0x80). Returns its length and sets r, or
// returns 0 when the sequence is invalid (overlong, surrogate, > U+10FFFF,
// truncated or a bad continuation byte).
inline std::size_t decode_rune(std::string_view s, std::size_t i, char32_t& r) noexcept {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    std::size_t left = s.size() - i;
    unsigned char c0 = b(0);
    auto cont = [&](std::size_t k) { return (b(k) & 0xC0) == 0x80; };
    if (c0 >= 0xC2 && c0 <= 0xDF) {
        if (left < 2 || !cont(1)) return 0;
        r = char32_t(c0 & 0x1F) << 6 | (b(1) & 0x3F);
        return 2;
    }
    if (c0 >= 0xE0 && c0 <= 0xEF) {
        if (left < 3) return 0;
        unsigned char c1 = b(1);
        unsigned char lo = 0x80, hi = 0xBF;
        if (c0 == 0xE0) lo = 0xA0;      // no overlongs
        else if (c0 == 0xED) hi = 0x9F; // no surrogates
        if (c1 < lo || c1 > hi || !cont(2)) return 0;
        r = char32_t(c0 & 0x0F) << 12 | char32_t(c1 & 0x3F) << 6 | (b(2) & 0x3F);
        return 3;
    }
    if (c0 >= 0xF0 && c0 <= 0xF4) {
        if (left < 4) return 0;
        unsigned char c1 = b(1);
        unsigned char lo = 0x80, hi = 0xBF;
        if (c0 == 0xF0) lo = 0x90;      // no overlongs
        else if (c0 == 0xF4) hi = 0x8F; // <= U+10FFFF
        if (c1 < lo || c1 > hi || !cont(2) || !cont(3)) return 0;
        r = char32_t(c0 & 0x07) << 18 | char32_t(c1 & 0x3F) << 12 | char32_t(b(2) & 0x3F) << 6 |
            (b(3) & 0x3F);
        return 4;
    }
    return 0;
}

} // namespace plex::detail
