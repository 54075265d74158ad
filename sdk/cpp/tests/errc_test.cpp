#include <gtest/gtest.h>

#include "plex/errc.hpp"

namespace plex {
namespace {

TEST(Errc, WireCodesKeepTheirNumbers) {
    std::error_code ec = errc::auth_failed;
    EXPECT_EQ(ec.value(), 4001);
    EXPECT_EQ(&ec.category(), &category());
    EXPECT_STREQ(ec.category().name(), "plex");
    EXPECT_EQ(ec.message(), "auth failed");
    EXPECT_EQ(std::error_code(errc::shutdown).value(), 3000);
    EXPECT_EQ(std::error_code(errc::refused).value(), 4030);
}

TEST(Errc, MessagesCoverEveryCode) {
    struct {
        errc e;
        const char* text;
    } cases[] = {
        {errc::shutdown, "server shutting down"},      {errc::heartbeat_timeout, "heartbeat timeout"},
        {errc::slow_consumer, "slow consumer"},        {errc::auth_timeout, "auth timeout"},
        {errc::too_many_connections, "too many connections"}, {errc::internal, "internal error"},
        {errc::frame_too_large, "frame too large"},    {errc::bad_frame, "bad frame"},
        {errc::outcome_unknown, "outcome unknown"},
        {errc::auth_failed, "auth failed"},            {errc::replaced, "replaced by a newer login"},
        {errc::forbidden, "forbidden"},                {errc::bad_request, "bad request"},
        {errc::unsupported_version, "unsupported protocol version"},
        {errc::not_found, "not found"},                {errc::rate_limited, "rate limited"},
        {errc::refused, "connection refused"},         {errc::invalid_utf8, "invalid UTF-8"},
        {errc::not_executed, "not executed"},
    };
    for (const auto& c : cases) EXPECT_EQ(make_error_code(c.e).message(), c.text);
}

TEST(Errc, UnknownCodesKeepTheirNumber) {
    auto ec = code_error(3999);
    EXPECT_EQ(ec.value(), 3999);
    EXPECT_EQ(ec.message(), "code 3999");
    EXPECT_FALSE(is_terminal(ec));
    EXPECT_TRUE(is_terminal(code_error(4999)));
}

TEST(Errc, TerminalMeans4xxx) {
    EXPECT_TRUE(is_terminal(errc::auth_failed));
    EXPECT_TRUE(is_terminal(errc::replaced));
    EXPECT_FALSE(is_terminal(errc::shutdown));
    EXPECT_FALSE(is_terminal(errc::heartbeat_timeout));
    EXPECT_FALSE(is_terminal(errc::connection_lost));
    // A system error with a large value is not a plex code.
    EXPECT_FALSE(is_terminal(std::error_code(4001, std::generic_category())));
}

TEST(Errc, OutcomeUnknownIsAPerRequestCode) {
    // 3008 answers one request on /error: the push may have been stored.
    std::error_code ec = code_error(3008);
    EXPECT_EQ(ec, errc::outcome_unknown);
    EXPECT_NE(ec, errc::internal); // 3005: known not stored
    EXPECT_EQ(ec.message(), "outcome unknown");
    EXPECT_FALSE(is_terminal(ec)); // never stops a client
}

TEST(Errc, ComparesWithEnum) {
    std::error_code ec = code_error(4001);
    EXPECT_EQ(ec, errc::auth_failed);
    EXPECT_NE(ec, errc::replaced);
}

} // namespace
} // namespace plex
