// Sizes and durations a peer controls (frame lengths, HTTP lengths, the
// node's heartbeat facts) must never wrap the arithmetic they enter
// (issue 12). The frame decoder's and the chunked decoder's sums only
// wrapped with a 32-bit size_t (armv7 devices; reproduced with a -m32
// build): on 64-bit those tests state the behaviour without exercising it.
#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "discovery.hpp"
#include "plex/codec.hpp"
#include "plex/errc.hpp"
#include "plex/frame.hpp"
#include "plex/session.hpp"

namespace plex {
namespace {

using namespace std::chrono_literals;

std::string header(Order o, std::uint32_t n) {
    std::string h(header_size, '\0');
    put_header(o, reinterpret_cast<unsigned char*>(h.data()), n);
    return h;
}

// A frame declaring 2^32-1 bytes under the largest limit is incomplete, not
// a frame: header_size + n wrapped a 32-bit size_t to 3 and the decoder
// returned a 3-byte "body" and lost the stream's framing.
TEST(Limits, LargestFrameIsIncompleteNotWrapped) {
    for (Order o : {Order::big, Order::little}) {
        FrameDecoder d(o, std::numeric_limits<std::uint32_t>::max());
        std::string in = header(o, 0xFFFFFFFFu) + "abc";
        d.feed(in);
        std::string_view body;
        std::error_code ec;
        EXPECT_FALSE(d.next(body, ec));
        EXPECT_FALSE(ec) << ec.message();
        EXPECT_EQ(d.buffered(), in.size());
        EXPECT_EQ(d.finish(), errc::truncated);
    }
}

// The same behind an earlier frame still in the decoder's buffer (its
// offset > 0): off + header_size + n wrapped too.
TEST(Limits, LargestFrameBehindAnotherFrame) {
    for (Order o : {Order::big, Order::little}) {
        FrameDecoder d(o, std::numeric_limits<std::uint32_t>::max());
        std::string first = header(o, 2) + "{}" + header(o, 0xFFFFFFFFu);
        std::string second = "abc";
        d.feed(first);
        d.feed(second); // before draining: both are now in the buffer
        std::string_view body;
        std::error_code ec;
        ASSERT_TRUE(d.next(body, ec)) << ec.message();
        EXPECT_EQ(body, "{}");
        EXPECT_FALSE(d.next(body, ec));
        EXPECT_FALSE(ec) << ec.message();
        EXPECT_EQ(d.buffered(), header_size + 3);
    }
}

// A length above what discovery ever reads is refused at once: a chunk size
// of 12 hex digits overflowed a 32-bit size_t, and i + n + 2 then wrapped
// back to i, looping forever while the body grew.
TEST(Limits, HttpLengthsAboveTheResponseLimitAreRefused) {
    const std::string head = "HTTP/1.1 200 OK\r\n";
    for (const std::string& r : {
             head + "Transfer-Encoding: chunked\r\n\r\nfffffffe\r\nab\r\n0\r\n\r\n",
             head + "Transfer-Encoding: chunked\r\n\r\nfffffffffffe\r\n{}\r\n",
             head + "Transfer-Encoding: chunked\r\n\r\n10001\r\n{}\r\n",
             head + "Content-Length: 99999999999\r\n\r\n{}",
             head + "Content-Length: 65537\r\n\r\n{}",
         }) {
        bool complete = true;
        int status = 0;
        std::string body;
        EXPECT_EQ(detail::parse_http_response(r, false, complete, status, body), errc::discovery_failed) << r;
        EXPECT_FALSE(complete) << r;
    }
    // at the limit: a length that can still arrive is waited for
    bool complete = true;
    int status = 0;
    std::string body;
    EXPECT_FALSE(detail::parse_http_response(head + "Content-Length: 65536\r\n\r\n{}", false, complete, status, body));
    EXPECT_FALSE(complete);
    EXPECT_FALSE(detail::parse_http_response(head + "Transfer-Encoding: chunked\r\n\r\n10000\r\n{}", false, complete,
                                             status, body));
    EXPECT_FALSE(complete);
}

// The node's heartbeat_ms and timeout_ms go into time_point arithmetic in
// nanoseconds; 2^63-1 ms overflowed it (undefined behaviour; in practice the
// session timed out at once and reconnected in a loop).
TEST(Limits, HugeHeartbeatFactsDoNotOverflowTheClock) {
    Config cfg;
    cfg.addresses = {"127.0.0.1:1"};
    cfg.token = "alice";
    Session s(cfg, [] { return 0.5; });
    Clock::time_point now{};
    s.start(now);
    s.on_connected(now);
    Message m;
    m.uri = "/auth/success";
    m.body = R"({"uid":"alice","heartbeat_ms":9223372036854775807,"timeout_ms":9223372036854775807})";
    std::string f;
    ASSERT_FALSE(append_frame(f, cfg.order, cfg.codec, m));
    s.on_data(now, f.data(), f.size());
    ASSERT_EQ(s.state(), State::online);
    EXPECT_EQ(s.info().heartbeat, 24h) << "clamped to a day";
    EXPECT_EQ(s.info().timeout, 24h);
    s.on_tick(now + 1s);
    EXPECT_EQ(s.state(), State::online) << "no heartbeat timeout a second in";
    auto d = s.next_deadline();
    ASSERT_TRUE(d.has_value());
    EXPECT_GT(*d, now + 1s);
    s.on_tick(now + 24h + 1s);
    EXPECT_NE(s.state(), State::online) << "a day without input is a timeout";
}

} // namespace
} // namespace plex
