// Requests (Session::request, e.g. /message) and drain (protocol §13.4,
// §13.6), driven with a fake clock and bytes: no sockets.
#include <gtest/gtest.h>

#include "plex/errc.hpp"
#include "plex/session.hpp"
#include "session_harness.hpp"

namespace plex {
namespace {

using namespace session_test;

const char* const kDrainFacts = R"({"uid":"alice","heartbeat_ms":1000,"timeout_ms":3000,"drain":true})";

Message message_to(std::string to) {
    Message m;
    m.uri = uri::message;
    m.body = R"({"to":")" + to + R"(","body":"hi"})";
    return m;
}

Message answer(std::string_view u, std::int64_t seq, std::string body) {
    Message m;
    m.seq = seq;
    m.uri = u;
    m.body = std::move(body);
    return m;
}

// Online on a node whose /auth/success says body.
void online_with(Harness& h, const char* body) {
    h.make();
    h.s->start(h.now);
    h.drain();
    h.s->on_connected(h.now);
    h.drain();
    h.auth_success(body);
    ASSERT_EQ(h.state(), State::online);
}

// The node's /disconnect with code, and the connection ends.
void disconnect(Harness& h, int code) {
    h.receive(code_msg(uri::disconnect, code));
}

// Waits out the backoff and logs in again with body.
void reconnect(Harness& h, const char* body) {
    h.to_deadline();
    ASSERT_EQ(h.state(), State::connecting);
    h.s->on_connected(h.now);
    h.drain();
    h.auth_success(body);
    ASSERT_EQ(h.state(), State::online);
}

TEST(Session, RequestIsAnsweredByTheReplyOrErrorWithItsSeq) {
    Harness h;
    h.make();
    std::int64_t id = 0;
    EXPECT_EQ(h.s->request(h.now, message_to("bob"), id), errc::not_connected) << "before online";
    online_with(h, kDrainFacts);

    ASSERT_FALSE(h.s->request(h.now, message_to("bob"), id));
    h.drain();
    EXPECT_EQ(id, 1);
    ASSERT_FALSE(h.written.empty());
    EXPECT_EQ(h.written.back().uri, "/message");
    EXPECT_EQ(h.written.back().seq, id) << "the request id travels in seq";
    h.receive(answer(uri::reply, id, R"({"id":"n1-1","seq":7,"delivered":1})"));
    ASSERT_EQ(h.replies.size(), 1u);
    EXPECT_EQ(h.replies[0].id, id);
    EXPECT_FALSE(h.replies[0].error);
    EXPECT_EQ(h.replies[0].reply.body, R"({"id":"n1-1","seq":7,"delivered":1})");
    EXPECT_TRUE(h.delivered.empty()) << "a reply is the request's, not the application's message";

    std::int64_t id2 = 0;
    ASSERT_FALSE(h.s->request(h.now, message_to("mallory"), id2));
    h.drain();
    EXPECT_EQ(id2, 2);
    auto refusal = code_msg(uri::error, 4003);
    refusal.seq = id2;
    h.receive(refusal);
    ASSERT_EQ(h.replies.size(), 2u);
    EXPECT_EQ(h.replies[1].id, id2);
    EXPECT_EQ(h.replies[1].error, errc::forbidden);
    EXPECT_EQ(h.s->pending_requests(), 0u);

    h.receive(answer(uri::reply, id2, "{}")); // answered already: the application's
    auto stray = code_msg(uri::error, 4004);
    stray.seq = 99;
    h.receive(stray);
    EXPECT_EQ(h.replies.size(), 2u);
    EXPECT_EQ(h.delivered.size(), 2u) << "frames for no pending request are delivered as before";

    Message reserved;
    reserved.uri = uri::auth;
    EXPECT_EQ(h.s->request(h.now, reserved, id), errc::reserved_uri);
}

// §13.4: a draining node answered everything it executed before its
// /disconnect, so what is unanswered goes out again on the next connection,
// once, as the same frame (same seq); a second drain leaves it not executed.
TEST(Session, DrainResendsAnUnansweredRequestOnceWithItsSeq) {
    Harness h;
    online_with(h, kDrainFacts);
    std::int64_t a = 0, b = 0;
    ASSERT_FALSE(h.s->request(h.now, message_to("bob"), a));
    ASSERT_FALSE(h.s->request(h.now, message_to("carol"), b));
    h.drain();
    const Message first_a = h.written[h.written.size() - 2];
    const Message first_b = h.written.back();
    h.receive(answer(uri::reply, a, R"({"id":"x"})")); // a was executed and answered
    disconnect(h, 3000);
    EXPECT_EQ(h.state(), State::reconnecting);
    ASSERT_EQ(h.replies.size(), 1u) << "b waits for the next connection";
    EXPECT_EQ(h.s->pending_requests(), 1u);

    h.written.clear();
    reconnect(h, kDrainFacts);
    std::vector<Message> again;
    for (auto& m : h.written)
        if (m.uri == "/message") again.push_back(m);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0], first_b) << "the same frame: same seq, same body";
    EXPECT_NE(again[0], first_a);

    disconnect(h, 3001); // unanswered again at a draining /disconnect
    ASSERT_EQ(h.replies.size(), 2u);
    EXPECT_EQ(h.replies[1].id, b);
    EXPECT_EQ(h.replies[1].error, errc::not_executed) << "sent again once only";
    h.written.clear();
    reconnect(h, kDrainFacts);
    for (auto& m : h.written) EXPECT_NE(m.uri, "/message");

    // Answered on the next connection: the answer is the request's.
    std::int64_t c = 0;
    ASSERT_FALSE(h.s->request(h.now, message_to("dave"), c));
    h.drain();
    disconnect(h, 3007);
    reconnect(h, kDrainFacts);
    h.receive(answer(uri::reply, c, R"({"id":"n2-1"})"));
    ASSERT_EQ(h.replies.size(), 3u);
    EXPECT_EQ(h.replies[2].id, c);
    EXPECT_FALSE(h.replies[2].error);
    EXPECT_GT(c, b) << "request ids never repeat across connections";
}

// Without the node's promise the outcome of an unanswered request is unknown.
TEST(Session, UnansweredRequestWithoutDrainsPromiseIsOutcomeUnknown) {
    struct Case {
        const char* name;
        const char* facts;
        int code; // the /disconnect's; 0: the connection just ends
    };
    for (const Case& c : {Case{"no drain", R"({"uid":"alice"})", 3000},
                          Case{"3008 from a draining node", kDrainFacts, 3008},
                          Case{"no /disconnect", kDrainFacts, 0}}) {
        Harness h;
        online_with(h, c.facts);
        std::int64_t id = 0;
        ASSERT_FALSE(h.s->request(h.now, message_to("bob"), id));
        h.drain();
        if (c.code) {
            disconnect(h, c.code);
        } else {
            h.s->on_closed(h.now, errc::connection_lost);
            h.drain();
        }
        ASSERT_EQ(h.replies.size(), 1u) << c.name;
        EXPECT_EQ(h.replies[0].error, errc::outcome_unknown) << c.name;
        EXPECT_EQ(h.s->pending_requests(), 0u) << c.name;
        h.written.clear();
        reconnect(h, c.facts);
        for (auto& m : h.written) EXPECT_NE(m.uri, "/message") << c.name << ": never sent again";
    }
}

// Closing ends a request kept for resending as not executed (it never ran)
// and one in flight as outcome unknown; a draining node's terminal code
// (4002) stops the session with the request not executed.
TEST(Session, CloseFailsARequestKeptForResendingAsNotExecuted) {
    Harness h;
    online_with(h, kDrainFacts);
    std::int64_t kept = 0;
    ASSERT_FALSE(h.s->request(h.now, message_to("bob"), kept));
    h.drain();
    disconnect(h, 3000);
    reconnect(h, kDrainFacts);
    disconnect(h, 3000); // resent once, unanswered again: not executed
    ASSERT_EQ(h.replies.size(), 1u);
    EXPECT_EQ(h.replies[0].error, errc::not_executed);

    Harness w;
    online_with(w, kDrainFacts);
    std::int64_t waiting = 0, inflight = 0;
    ASSERT_FALSE(w.s->request(w.now, message_to("bob"), waiting));
    w.drain();
    disconnect(w, 3000);
    ASSERT_TRUE(w.replies.empty());
    w.s->close(w.now);
    w.drain();
    ASSERT_EQ(w.replies.size(), 1u);
    EXPECT_EQ(w.replies[0].id, waiting);
    EXPECT_EQ(w.replies[0].error, errc::not_executed);
    EXPECT_EQ(w.state(), State::closed);
    EXPECT_EQ(w.states.back().first, State::closed);

    Harness f;
    online_with(f, kDrainFacts);
    ASSERT_FALSE(f.s->request(f.now, message_to("bob"), inflight));
    f.drain();
    f.s->close(f.now);
    f.drain();
    ASSERT_EQ(f.replies.size(), 1u);
    EXPECT_EQ(f.replies[0].error, errc::outcome_unknown) << "written: it may have run";

    Harness t;
    online_with(t, kDrainFacts);
    std::int64_t id = 0;
    ASSERT_FALSE(t.s->request(t.now, message_to("bob"), id));
    t.drain();
    disconnect(t, 4002);
    EXPECT_EQ(t.state(), State::closed);
    ASSERT_EQ(t.replies.size(), 1u);
    EXPECT_EQ(t.replies[0].error, errc::not_executed);
}

} // namespace
} // namespace plex
