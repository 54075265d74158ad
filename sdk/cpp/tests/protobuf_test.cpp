// The protobuf wire walker (always built) and the codec (PLEX_PROTOBUF=ON).
#include <gtest/gtest.h>

#include "plex/codec.hpp"
#include "plex/errc.hpp"
#include "protobuf_codec.hpp"

namespace plex {
namespace {

using detail::protobuf_validate;

std::string S(const char* s, std::size_t n) { return std::string(s, n); }

TEST(ProtobufWire, Valid) {
    EXPECT_FALSE(protobuf_validate(""));
    EXPECT_FALSE(protobuf_validate(S("\x08\x07\x12\x05/chat\x1a\x02\xff\xfe", 13)));
    // Unknown fields of every wire type, including a group.
    EXPECT_FALSE(protobuf_validate(S("\x28\x07\x31" "12345678" "\x3d" "1234" "\x7a\x01x\x43\x08\x01\x44", 23)));
    // A known field with another wire type is unknown (skipped, not UTF-8 checked).
    EXPECT_FALSE(protobuf_validate(S("\x15\xff\xff\xff\xff", 5)));
}

TEST(ProtobufWire, Invalid) {
    EXPECT_EQ(protobuf_validate("\x08"), errc::bad_protobuf);
    EXPECT_EQ(protobuf_validate(S("\x00\x00", 2)), errc::bad_protobuf);
    EXPECT_EQ(protobuf_validate("\x0f"), errc::bad_protobuf);
    EXPECT_EQ(protobuf_validate("\x0c"), errc::bad_protobuf) << "end group without start";
    EXPECT_EQ(protobuf_validate("\x43\x08\x01\x4c"), errc::bad_protobuf) << "mismatched end group";
    EXPECT_EQ(protobuf_validate("\x12\x02\xc3\x28"), errc::invalid_utf8);
    EXPECT_EQ(protobuf_validate(S("\x22\x05\x0a\x01\xff\x12\x00", 7)), errc::invalid_utf8);
    // The first problem in input order wins.
    EXPECT_EQ(protobuf_validate("\x12\x01\xff\x08"), errc::invalid_utf8);
    EXPECT_EQ(protobuf_validate("\x0f\x12\x01\xff"), errc::bad_protobuf);
}

#ifdef PLEX_TEST_PROTOBUF
TEST(ProtobufCodec, RoundTripAndDeterministic) {
    ASSERT_TRUE(protobuf_available());
    Message m;
    m.seq = 42;
    m.uri = "/chat";
    m.body = std::string("\x00\xff bin", 6);
    m.meta = {{"z", "1"}, {"a", ""}, {"m", "x"}};
    std::string a, b;
    ASSERT_FALSE(encode(Codec::protobuf, m, a));
    ASSERT_FALSE(encode(Codec::protobuf, m, b));
    EXPECT_EQ(a, b);
    Message got;
    ASSERT_FALSE(decode(Codec::protobuf, a, got));
    EXPECT_EQ(got, m);
}

TEST(ProtobufCodec, RefusesInvalidUtf8Strings) {
    Message m;
    m.uri = "\xff";
    std::string out;
    EXPECT_EQ(encode(Codec::protobuf, m, out), errc::invalid_utf8);
    m.uri = "/u";
    m.body = "\xff"; // bytes: fine
    EXPECT_FALSE(encode(Codec::protobuf, m, out));
    m.meta = {{"k", "\xff"}};
    EXPECT_EQ(encode(Codec::protobuf, m, out), errc::invalid_utf8);
}
#else
TEST(ProtobufCodec, UnavailableWithoutTheOption) {
    EXPECT_FALSE(protobuf_available());
    std::string out;
    EXPECT_EQ(encode(Codec::protobuf, Message{}, out), errc::protobuf_unavailable);
}
#endif

} // namespace
} // namespace plex
