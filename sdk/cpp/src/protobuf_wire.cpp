// A dependency-free protobuf wire walker for plex.proto's Message. The
// protobuf library rejects invalid UTF-8 in proto3 strings but cannot say
// so (it logs and returns false); the node reports it as its own error, so
// the SDK walks the body first: libprotobuf then only ever parses valid input.
#include <cstdint>

#include "plex/codec.hpp"
#include "plex/errc.hpp"
#include "protobuf_codec.hpp"

namespace plex::detail {
namespace {

struct Reader {
    std::string_view b;
    std::size_t i = 0;

    bool varint(std::uint64_t& v) {
        v = 0;
        for (unsigned k = 0; k < 10; ++k) {
            if (i >= b.size()) return false;
            auto c = static_cast<unsigned char>(b[i++]);
            if (k == 9 && c > 1) return false; // overflows 64 bits
            v |= std::uint64_t(c & 0x7F) << (7 * k);
            if (c < 0x80) return true;
        }
        return false;
    }
    bool bytes(std::string_view& out) {
        std::uint64_t n;
        if (!varint(n) || n > b.size() - i) return false;
        out = b.substr(i, std::size_t(n));
        i += std::size_t(n);
        return true;
    }
    bool skip_fixed(std::size_t n) {
        if (n > b.size() - i) return false;
        i += n;
        return true;
    }
};

constexpr std::uint64_t max_field = (1u << 29) - 1;

// Skips one field value of wire type wt (field num), including groups.
bool skip_value(Reader& r, std::uint64_t num, unsigned wt, int depth) {
    std::uint64_t v;
    std::string_view s;
    switch (wt) {
    case 0: return r.varint(v);
    case 1: return r.skip_fixed(8);
    case 2: return r.bytes(s);
    case 5: return r.skip_fixed(4);
    case 3: // start group: fields until the matching end group
        if (depth > 10000) return false;
        for (;;) {
            std::uint64_t tag;
            if (!r.varint(tag)) return false;
            std::uint64_t n = tag >> 3;
            unsigned t = unsigned(tag & 7);
            if (n == 0 || n > max_field) return false;
            if (t == 4) return n == num;
            if (!skip_value(r, n, t, depth + 1)) return false;
        }
    default: return false; // 4 (end group without start), 6, 7
    }
}

// Walks fields of a message; str(n) says whether field n is a proto3 string
// that must hold UTF-8; sub(n, bytes) validates an embedded message.
template <class IsString, class Sub>
std::error_code walk(std::string_view body, IsString is_string, std::uint64_t sub_num, Sub sub) {
    Reader r{body};
    while (r.i < body.size()) {
        std::uint64_t tag;
        if (!r.varint(tag)) return errc::bad_protobuf;
        std::uint64_t num = tag >> 3;
        unsigned wt = unsigned(tag & 7);
        if (num == 0 || num > max_field) return errc::bad_protobuf;
        if (wt == 2 && (is_string(num) || num == sub_num)) {
            std::string_view s;
            if (!r.bytes(s)) return errc::bad_protobuf;
            if (is_string(num)) {
                if (!valid_utf8(s)) return errc::invalid_utf8;
            } else if (auto ec = sub(num, s)) {
                return ec;
            }
            continue;
        }
        if (!skip_value(r, num, wt, 0)) return errc::bad_protobuf;
    }
    return {};
}

} // namespace

std::error_code protobuf_validate(std::string_view body) noexcept {
    auto entry = [](std::uint64_t, std::string_view e) -> std::error_code {
        // map<string,string> entry: key = 1, value = 2; both strings.
        return walk(e, [](std::uint64_t n) { return n == 1 || n == 2; }, 0,
                    [](std::uint64_t, std::string_view) { return std::error_code(); });
    };
    // Message: uri = 2 is a string; meta = 4 holds map entries.
    return walk(body, [](std::uint64_t n) { return n == 2; }, 4, entry);
}

} // namespace plex::detail
