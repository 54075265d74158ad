#include <gtest/gtest.h>

#include "plex/codec.hpp"
#include "plex/errc.hpp"
#include "plex/frame.hpp"
#include "test_util.hpp"

namespace plex {
namespace {

using test::frame_of;

TEST(Header, BothOrders) {
    unsigned char b[4];
    put_header(Order::big, b, 0x01020304);
    EXPECT_EQ(b[0], 1);
    EXPECT_EQ(b[3], 4);
    EXPECT_EQ(read_header(Order::big, b), 0x01020304u);
    put_header(Order::little, b, 0x01020304);
    EXPECT_EQ(b[0], 4);
    EXPECT_EQ(b[3], 1);
    EXPECT_EQ(read_header(Order::little, b), 0x01020304u);
}

TEST(FrameDecoder, WholeFramesAreViewsOfTheInput) {
    std::string in = frame_of(Order::big, "ab") + frame_of(Order::big, "") + frame_of(Order::big, "cde");
    FrameDecoder d;
    d.feed(in);
    std::string_view body;
    std::error_code ec;
    ASSERT_TRUE(d.next(body, ec));
    EXPECT_EQ(body, "ab");
    EXPECT_EQ(body.data(), in.data() + 4) << "a whole frame is not copied";
    ASSERT_TRUE(d.next(body, ec));
    EXPECT_EQ(body, "");
    ASSERT_TRUE(d.next(body, ec));
    EXPECT_EQ(body, "cde");
    EXPECT_FALSE(d.next(body, ec));
    EXPECT_FALSE(ec);
    EXPECT_FALSE(d.finish());
    EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameDecoder, LimitCheckedFromTheHeaderAlone) {
    for (Order o : {Order::big, Order::little}) {
        FrameDecoder d(o, 16);
        std::string h(4, '\0');
        put_header(o, reinterpret_cast<unsigned char*>(h.data()), 0xFFFFFFFF);
        d.feed(h);
        std::string_view body;
        std::error_code ec;
        EXPECT_FALSE(d.next(body, ec));
        EXPECT_EQ(ec, errc::frame_too_large);
        EXPECT_EQ(d.buffered(), 0u) << "nothing kept for an oversize frame";
        // Sticky.
        d.feed("xxxx");
        EXPECT_FALSE(d.next(body, ec));
        EXPECT_EQ(ec, errc::frame_too_large);
        EXPECT_EQ(d.finish(), errc::frame_too_large);
    }
}

TEST(FrameDecoder, ExactLimitPassesOneMoreFails) {
    FrameDecoder d(Order::big, 3);
    std::string ok = frame_of(Order::big, "abc"), bad = frame_of(Order::big, "abcd");
    d.feed(ok);
    std::string_view body;
    std::error_code ec;
    ASSERT_TRUE(d.next(body, ec));
    d.feed(bad);
    EXPECT_FALSE(d.next(body, ec));
    EXPECT_EQ(ec, errc::frame_too_large);
}

TEST(FrameDecoder, BufferGrowsOnlyWithBytesThatArrived) {
    // A header that declares 1 MiB followed by 10 bytes keeps ~14 bytes.
    FrameDecoder d(Order::big, default_limit);
    std::string h(4, '\0');
    put_header(Order::big, reinterpret_cast<unsigned char*>(h.data()), default_limit);
    std::string in = h + std::string(10, 'x');
    d.feed(in);
    std::string_view body;
    std::error_code ec;
    EXPECT_FALSE(d.next(body, ec));
    EXPECT_FALSE(ec);
    EXPECT_EQ(d.buffered(), 14u);
    EXPECT_EQ(d.finish(), errc::truncated);
}

TEST(FrameDecoder, FeedBeforeDrainedKeepsEveryFrame) {
    // Two whole frames left over when more bytes are fed (the case that
    // broke pack's decoder): every frame comes out once, in order.
    std::string a = frame_of(Order::big, "one") + frame_of(Order::big, "two") +
                    frame_of(Order::big, "three").substr(0, 5);
    std::string b = frame_of(Order::big, "three").substr(5) + frame_of(Order::big, "four");
    FrameDecoder d;
    d.feed(a);
    std::string_view body;
    std::error_code ec;
    ASSERT_TRUE(d.next(body, ec));
    EXPECT_EQ(body, "one");
    d.feed(b); // "two" and part of "three" were not drained
    std::vector<std::string> got;
    while (d.next(body, ec)) got.emplace_back(body);
    EXPECT_FALSE(ec);
    EXPECT_EQ(got, (std::vector<std::string>{"two", "three", "four"}));
    EXPECT_FALSE(d.finish());
}

TEST(FrameDecoder, SetLimitAppliesToFramesNotYetReturned) {
    std::string in = frame_of(Order::big, "ab") + frame_of(Order::big, "abcdef");
    FrameDecoder d(Order::big, 4);
    d.feed(in);
    std::string_view body;
    std::error_code ec;
    ASSERT_TRUE(d.next(body, ec));
    d.set_limit(8);
    ASSERT_TRUE(d.next(body, ec));
    EXPECT_EQ(body, "abcdef");
}

TEST(FrameDecoder, LargeSplitBufferIsReleased) {
    std::string f = frame_of(Order::big, std::string(4096, 'x'));
    FrameDecoder d;
    d.feed(f.data(), 100);
    std::string_view body;
    std::error_code ec;
    EXPECT_FALSE(d.next(body, ec));
    d.feed(f.data() + 100, f.size() - 100);
    ASSERT_TRUE(d.next(body, ec));
    EXPECT_EQ(body.size(), 4096u);
    EXPECT_FALSE(d.next(body, ec));
    EXPECT_EQ(d.buffered(), 0u);
}

TEST(AppendFrame, RefusesOverLimitAndLeavesOutputAlone) {
    Message m;
    m.uri = "/chat";
    m.body = std::string(100, 'x');
    std::string out = "keep";
    EXPECT_EQ(append_frame(out, Order::big, Codec::json, m, 50), errc::frame_too_large);
    EXPECT_EQ(out, "keep");
    EXPECT_FALSE(append_frame(out, Order::big, Codec::json, m, 200));
    EXPECT_EQ(out.size(), 4 + 4 + read_header(Order::big, reinterpret_cast<const unsigned char*>(out.data() + 4)));
}

TEST(AppendFrame, EncodeErrorLeavesOutputAlone) {
    Message m;
    m.uri = "/chat";
    m.body = "\xff";
    std::string out = "keep";
    EXPECT_EQ(append_frame(out, Order::big, Codec::json, m), errc::invalid_utf8);
    EXPECT_EQ(out, "keep");
}

} // namespace
} // namespace plex
