// The JSON codec. Encoding is written by hand because nlohmann's dump() does
// not escape the way Go's encoding/json does (HTML-safe escapes, \u2028,
// lowercase hex) and the wire must be byte-identical with the node's.
// Decoding uses nlohmann's SAX parser so that the rules match the node's
// parser in pack/json.go event by event: the first error in input order wins,
// a wrong-typed container value is fully validated before it is reported,
// and nesting deeper than 10,000 is rejected as in encoding/json.
#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "plex/codec.hpp"
#include "plex/errc.hpp"
#include "utf8.hpp"

namespace plex {

bool valid_utf8(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        char32_t r;
        std::size_t n = detail::decode_rune(s, i, r);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

namespace json {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

// maxJSONDepth in pack/json.go: at most this many nested containers, the
// message object being level 1 (the same bound encoding/json has).
constexpr std::size_t max_depth = 10000;

} // namespace

std::error_code append_string(std::string& out, std::string_view s) {
    out.push_back('"');
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size();) {
        auto b = static_cast<unsigned char>(s[i]);
        if (b < 0x80) {
            if (b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&') {
                ++i;
                continue;
            }
            out.append(s, start, i - start);
            switch (b) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default: // other controls and < > &
                out += "\\u00";
                out.push_back(hex_digits[b >> 4]);
                out.push_back(hex_digits[b & 0xF]);
            }
            start = ++i;
            continue;
        }
        char32_t r;
        std::size_t n = detail::decode_rune(s, i, r);
        if (n == 0) return errc::invalid_utf8;
        if (r == 0x2028 || r == 0x2029) {
            out.append(s, start, i - start);
            out += "\\u202";
            out.push_back(hex_digits[r & 0xF]);
            i += n;
            start = i;
            continue;
        }
        i += n;
    }
    out.append(s, start, s.size() - start);
    out.push_back('"');
    return {};
}

std::error_code encode(const Message& m, std::string& out) {
    const std::size_t start = out.size();
    std::error_code ec;
    bool sep = false;
    auto field = [&](const char* name) {
        out += sep ? ",\"" : "\"";
        sep = true;
        out += name;
        out += "\":";
    };
    out.push_back('{');
    if (m.seq != 0) {
        field("seq");
        out += std::to_string(m.seq);
    }
    if (!m.uri.empty()) {
        field("uri");
        if ((ec = append_string(out, m.uri))) goto fail;
    }
    if (!m.body.empty()) {
        field("body");
        if ((ec = append_string(out, m.body))) goto fail;
    }
    if (!m.meta.empty()) {
        field("meta");
        out.push_back('{');
        bool first = true;
        for (const auto& [k, v] : m.meta) { // std::map: sorted by bytes, as Go sorts
            if (!first) out.push_back(',');
            first = false;
            if ((ec = append_string(out, k))) goto fail;
            out.push_back(':');
            if ((ec = append_string(out, v))) goto fail;
        }
        out.push_back('}');
    }
    out.push_back('}');
    return {};
fail:
    out.resize(start);
    return ec;
}

namespace {

using njson = nlohmann::json;

// Rewrites lone UTF-16 surrogate escapes (\ud800 without a following low
// surrogate, or a lone \udc00) to \ufffd, which is what Go's decoder yields
// for them; nlohmann rejects them instead. Same length, so error positions
// do not move. Returns false when nothing needed rewriting (the common case:
// no copy is made).
bool fix_lone_surrogates(std::string_view in, std::string& out) {
    auto hex4 = [&](std::size_t i, unsigned& v) {
        if (i + 4 > in.size()) return false;
        v = 0;
        for (std::size_t k = i; k < i + 4; ++k) {
            char c = in[k];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= unsigned(c - '0');
            else if (c >= 'a' && c <= 'f') v |= unsigned(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= unsigned(c - 'A' + 10);
            else return false;
        }
        return true;
    };
    bool changed = false;
    bool in_string = false;
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (!in_string) {
            if (c == '"') in_string = true;
            continue;
        }
        if (c == '"') {
            in_string = false;
            continue;
        }
        if (c != '\\') continue;
        if (i + 1 >= in.size()) break;
        if (in[i + 1] != 'u') {
            ++i; // skip the escaped character
            continue;
        }
        unsigned r;
        if (!hex4(i + 2, r)) break; // malformed: leave it to the parser
        bool lone = false;
        if (r >= 0xD800 && r < 0xDC00) {
            unsigned r2;
            if (i + 7 < in.size() && in[i + 6] == '\\' && in[i + 7] == 'u') {
                if (!hex4(i + 8, r2)) break; // malformed second escape: parser error
                if (r2 >= 0xDC00 && r2 < 0xE000) {
                    i += 11; // a valid pair
                    continue;
                }
            }
            lone = true; // the next escape is then decoded on its own
        } else if (r >= 0xDC00 && r < 0xE000) {
            lone = true;
        }
        if (lone) {
            if (!changed) {
                out.assign(in.data(), in.size());
                changed = true;
            }
            out.replace(i, 6, "\\ufffd");
        }
        i += 5;
    }
    return changed;
}

// What a value event means at the point where it arrives.
enum class slot { none, seq, uri, body, meta, other, meta_value };

class Sax {
public:
    explicit Sax(Message& m) : m_(m) {}

    std::error_code err;

    bool null() { return scalar(kind::null); }
    bool boolean(bool) { return scalar(kind::other); }
    bool number_integer(njson::number_integer_t v) {
        if (skip_ == 0 && slot_ == slot::seq) {
            m_.seq = v;
            return done_value();
        }
        return scalar(kind::number);
    }
    bool number_unsigned(njson::number_unsigned_t v) {
        if (skip_ == 0 && slot_ == slot::seq) {
            if (v > njson::number_unsigned_t(std::numeric_limits<std::int64_t>::max()))
                return fail(errc::wrong_type); // out of int64 range
            m_.seq = static_cast<std::int64_t>(v);
            return done_value();
        }
        return scalar(kind::number);
    }
    bool number_float(njson::number_float_t, const njson::string_t&) {
        // 1.5 or 1e3 is not an int64 (nor is an integer outside int64's range,
        // which nlohmann reports as a float).
        return scalar(kind::number);
    }
    bool string(njson::string_t& s) {
        if (skip_ == 0) {
            switch (slot_) {
            case slot::uri: m_.uri = std::move(s); return done_value();
            case slot::body: m_.body = std::move(s); return done_value();
            case slot::meta_value: m_.meta[meta_key_] = std::move(s); return done_value();
            default: break;
            }
        }
        return scalar(kind::other);
    }
    bool binary(njson::binary_t&) { return fail(errc::bad_json); }

    bool start_object(std::size_t) {
        if (++level_ > max_depth) return fail(errc::bad_json);
        if (level_ == 1) { // the message object itself
            slot_ = slot::none;
            return true;
        }
        if (skip_ == 0 && slot_ == slot::meta) {
            in_meta_ = true;
            slot_ = slot::none;
            return true;
        }
        return start_container();
    }
    bool start_array(std::size_t) {
        if (++level_ > max_depth) return fail(errc::bad_json);
        if (level_ == 1) return fail(errc::bad_json);
        return start_container();
    }
    bool key(njson::string_t& k) {
        if (skip_ > 0) return true;
        if (in_meta_) {
            meta_key_ = std::move(k);
            slot_ = slot::meta_value;
            return true;
        }
        if (k == "seq") slot_ = slot::seq;
        else if (k == "uri") slot_ = slot::uri;
        else if (k == "body") slot_ = slot::body;
        else if (k == "meta") slot_ = slot::meta;
        else slot_ = slot::other;
        return true;
    }
    bool end_object() {
        --level_;
        return end_container();
    }
    bool end_array() {
        --level_;
        return end_container();
    }

    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) {
        // Invalid UTF-8 inside a string of the message is its own error, as
        // in pack/json.go; anything else (including garbage after the
        // object) is malformed JSON.
        std::string_view what = ex.what();
        if (!top_done_ && what.find("ill-formed UTF-8") != std::string_view::npos) {
            err = errc::invalid_utf8;
        } else {
            err = errc::bad_json;
        }
        return false;
    }

private:
    enum class kind { null, number, other };

    bool fail(errc e) {
        err = e;
        return false;
    }

    // A value was consumed where slot_ pointed; the next key sets it again.
    bool done_value() {
        slot_ = slot::none;
        return true;
    }

    // A scalar value that was not stored by the typed handlers above.
    bool scalar(kind k) {
        if (skip_ > 0) return true;
        switch (slot_) {
        case slot::seq:
            if (k == kind::null) return done_value();
            return fail(errc::wrong_type);
        case slot::uri:
        case slot::body:
            if (k == kind::null) return done_value(); // null = absent
            return fail(errc::wrong_type);
        case slot::meta:
            if (k == kind::null) { // null empties meta, as encoding/json does
                m_.meta.clear();
                return done_value();
            }
            return fail(errc::wrong_type);
        case slot::meta_value:
            if (k == kind::null) { // pack/json.go stores "" for a null meta value
                m_.meta[meta_key_];
                return done_value();
            }
            return fail(errc::wrong_type);
        default:
            return done_value(); // unknown field: ignored
        }
    }

    bool start_container() {
        if (skip_ > 0) {
            ++skip_;
            return true;
        }
        // A container where a string/number/meta object was expected is a
        // wrong type, but only once the whole value proved to be valid JSON.
        pending_wrong_type_ = slot_ != slot::other;
        skip_ = 1;
        return true;
    }

    bool end_container() {
        if (skip_ > 0) {
            if (--skip_ == 0) {
                if (pending_wrong_type_) return fail(errc::wrong_type);
                return done_value();
            }
            return true;
        }
        if (in_meta_) {
            in_meta_ = false;
            return done_value();
        }
        top_done_ = true; // the message object closed
        return true;
    }

    Message& m_;
    std::size_t level_ = 0;  // open containers; the message object is level 1
    std::size_t skip_ = 0;   // open containers of a value being skipped
    bool pending_wrong_type_ = false;
    bool in_meta_ = false;
    bool top_done_ = false;
    slot slot_ = slot::none;
    std::string meta_key_;
};

} // namespace

std::error_code decode(std::string_view body, Message& m) {
    m.seq = 0;
    m.uri.clear();
    m.body.clear();
    m.meta.clear();
    // The body must be a JSON object; checked here because nlohmann would
    // also skip a UTF-8 byte order mark, which pack/json.go does not.
    std::size_t i = 0;
    while (i < body.size() &&
           (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r'))
        ++i;
    if (body.empty()) return errc::empty_body;
    if (i == body.size() || body[i] != '{') return errc::bad_json;

    std::string fixed;
    std::string_view in = body;
    if (fix_lone_surrogates(body, fixed)) in = fixed;

    Sax sax(m);
    const char* first = in.data();
    const char* last = in.data() + in.size();
    bool ok = njson::sax_parse(first, last, &sax, njson::input_format_t::json,
                               /*strict=*/true, /*ignore_comments=*/false);
    if (!ok) {
        std::error_code ec = sax.err ? sax.err : make_error_code(errc::bad_json);
        m.seq = 0;
        m.uri.clear();
        m.body.clear();
        m.meta.clear();
        return ec;
    }
    return {};
}

} // namespace json
} // namespace plex
