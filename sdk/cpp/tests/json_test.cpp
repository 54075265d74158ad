// JSON codec cases beyond the golden vectors.
#include <gtest/gtest.h>

#include "plex/codec.hpp"
#include "plex/errc.hpp"

namespace plex {
namespace {

std::string enc(const Message& m) {
    std::string out;
    EXPECT_FALSE(json::encode(m, out));
    return out;
}

Message dec(std::string_view body, std::error_code want = {}) {
    Message m;
    EXPECT_EQ(json::decode(body, m), want) << body;
    return m;
}

TEST(JsonEncode, KeyOrderAndOmitEmpty) {
    Message m;
    EXPECT_EQ(enc(m), "{}");
    m.meta = {{"z", "1"}, {"a", "2"}};
    m.body = "b";
    m.uri = "/u";
    m.seq = -3;
    EXPECT_EQ(enc(m), R"({"seq":-3,"uri":"/u","body":"b","meta":{"a":"2","z":"1"}})");
}

TEST(JsonEncode, GoEscaping) {
    std::string s = "<>&\"\\/\b\f\n\r\t";
    s += std::string("\x00\x01\x1f\x7f", 4);
    s += "\xe2\x80\xa8\xe2\x80\xa9\xc3\xa9";
    std::string out;
    ASSERT_FALSE(json::append_string(out, s));
    EXPECT_EQ(out, "\"\\u003c\\u003e\\u0026\\\"\\\\/\\b\\f\\n\\r\\t\\u0000\\u0001\\u001f\x7f"
                   "\\u2028\\u2029\xc3\xa9\"");
}

TEST(JsonEncode, InvalidUtf8AnywhereIsAnError) {
    for (auto bad : {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
        Message m;
        m.uri = bad;
        std::string out;
        EXPECT_EQ(json::encode(m, out), errc::invalid_utf8);
        EXPECT_TRUE(out.empty());
        m.uri = "/u";
        m.meta[bad] = "v";
        EXPECT_EQ(json::encode(m, out), errc::invalid_utf8);
        m.meta = {{"k", bad}};
        EXPECT_EQ(json::encode(m, out), errc::invalid_utf8);
    }
}

TEST(JsonDecode, RoundTripsEveryByteValueThatIsUtf8) {
    Message m;
    m.uri = "/all";
    for (int c = 1; c < 0x80; ++c) m.body.push_back(static_cast<char>(c));
    m.body += "\xe4\xb8\x96\xf0\x9f\x98\x80";
    m.meta = {{"<&>", "\xe2\x80\xa8"}};
    EXPECT_EQ(dec(enc(m)), m);
}

TEST(JsonDecode, LoneSurrogatesBecomeReplacementCharacters) {
    EXPECT_EQ(dec(R"({"body":"\ud800"})").body, "\xef\xbf\xbd");
    EXPECT_EQ(dec(R"({"body":"\udc00x"})").body, "\xef\xbf\xbdx");
    EXPECT_EQ(dec(R"({"body":"\ud800\u0041"})").body, "\xef\xbf\xbd" "A");
    // A high surrogate followed by a valid pair.
    EXPECT_EQ(dec(R"({"body":"\ud800\ud83d\ude00"})").body, "\xef\xbf\xbd\xf0\x9f\x98\x80");
    // In an unknown field too (must parse at all).
    EXPECT_EQ(dec(R"({"x":"\udfff","uri":"/u"})").uri, "/u");
    // Malformed hex after a high surrogate is a syntax error.
    dec(R"({"body":"\ud800\uzzzz"})", errc::bad_json);
}

TEST(JsonDecode, NestingLimitMatchesTheNode) {
    // The message object is level 1; at most 10000 levels.
    auto nested = [](int n) {
        return std::string(R"({"x":)") + std::string(n, '[') + std::string(n, ']') + "}";
    };
    dec(nested(9999));
    dec(nested(10000), errc::bad_json);
    // Inside meta (level 2) a container value is a wrong type... unless too deep.
    dec(R"({"meta":{"a":[[1]]}})", errc::wrong_type);
}

TEST(JsonDecode, WrongTypeOnlyAfterTheValueProvedValid) {
    dec(R"({"uri":[1,2})", errc::bad_json);
    dec(R"({"uri":[1,2],"body":"x"})", errc::wrong_type);
    dec("{\"seq\":{\"a\":\"\xff\"}}", errc::invalid_utf8);
}

TEST(JsonDecode, MetaNullAndDuplicates) {
    auto m = dec(R"({"meta":{"a":"1"},"meta":{"b":null}})");
    EXPECT_EQ(m.meta, (Meta{{"a", "1"}, {"b", ""}}));
    m = dec(R"({"meta":{"a":"1"},"meta":null})");
    EXPECT_TRUE(m.meta.empty());
    m = dec(R"({"uri":"/a","uri":null})");
    EXPECT_EQ(m.uri, "/a") << "null leaves a field as it is";
}

TEST(JsonDecode, SeqRange) {
    EXPECT_EQ(dec(R"({"seq":9223372036854775807})").seq, INT64_MAX);
    EXPECT_EQ(dec(R"({"seq":-9223372036854775808})").seq, INT64_MIN);
    dec(R"({"seq":-9223372036854775809})", errc::wrong_type);
    dec(R"({"seq":18446744073709551616})", errc::wrong_type);
    dec(R"({"seq":-0.0})", errc::wrong_type);
}

TEST(JsonDecode, GarbageAfterTheObjectIsBadJsonEvenIfNotUtf8) {
    dec("{}\"\xff\"", errc::bad_json);
    dec("{} ", {});
    dec("", errc::empty_body);
    dec(" ", errc::bad_json);
}

} // namespace
} // namespace plex
