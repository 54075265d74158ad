// Requests (Session::request, e.g. /message) and drain (protocol §13.4,
// §13.6), driven with a fake clock and bytes: no sockets.
#include <vector>

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

// The connection ends without a /disconnect: reconnecting, with the backoff
// ahead.
void lose_connection(Harness& h) {
    h.s->on_closed(h.now, errc::connection_lost);
    h.drain();
    ASSERT_EQ(h.state(), State::reconnecting);
}

std::vector<Message> messages_written(const Harness& h) {
    std::vector<Message> out;
    for (auto& m : h.written)
        if (m.uri == uri::message) out.push_back(m);
    return out;
}

// §13.6: a request made while reconnecting or connecting (the socket up,
// auth not answered yet) waits, and is written once online, in the order
// made, each with its seq; it is answered as any other.
TEST(Session, RequestWhileReconnectingIsWrittenOnceOnlineWithItsSeq) {
    Harness h;
    online_with(h, R"({"uid":"alice","heartbeat_ms":1000,"timeout_ms":3000})");
    lose_connection(h);
    h.written.clear();
    std::int64_t a = 0, b = 0;
    ASSERT_FALSE(h.s->request(h.now, message_to("bob"), a)) << "reconnecting: it waits";
    h.drain();
    h.to_deadline(); // the backoff ends: connecting
    ASSERT_EQ(h.state(), State::connecting);
    h.s->on_connected(h.now);
    h.drain();
    ASSERT_FALSE(h.s->request(h.now, message_to("carol"), b)) << "in the auth handshake: it waits";
    h.drain();
    EXPECT_TRUE(messages_written(h).empty()) << "nothing before online";
    EXPECT_EQ(h.s->pending_requests(), 2u);

    h.auth_success(R"({"uid":"alice","heartbeat_ms":1000,"timeout_ms":3000})");
    ASSERT_EQ(h.state(), State::online);
    auto sent = messages_written(h);
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0].seq, a);
    EXPECT_EQ(sent[0].body, message_to("bob").body);
    EXPECT_EQ(sent[1].seq, b) << "in the order made";
    EXPECT_EQ(sent[1].body, message_to("carol").body);

    h.receive(answer(uri::reply, b, R"({"id":"n1-2"})"));
    h.receive(answer(uri::reply, a, R"({"id":"n1-1"})"));
    ASSERT_EQ(h.replies.size(), 2u);
    EXPECT_EQ(h.replies[0].id, b);
    EXPECT_FALSE(h.replies[0].error);
    EXPECT_EQ(h.replies[1].id, a);
    EXPECT_FALSE(h.replies[1].error);
    EXPECT_EQ(h.replies[1].reply.body, R"({"id":"n1-1"})");
    EXPECT_TRUE(h.delivered.empty());
    EXPECT_EQ(messages_written(h).size(), 2u) << "written once";
}

// A request first written after a reconnect has not used its one resend: a
// draining node's /disconnect on that connection still sends it again.
TEST(Session, RequestWrittenFirstAfterAReconnectKeepsItsOneResendAfterADrain) {
    Harness h;
    online_with(h, kDrainFacts);
    lose_connection(h);
    std::int64_t id = 0;
    ASSERT_FALSE(h.s->request(h.now, message_to("bob"), id));
    reconnect(h, kDrainFacts); // written for the first time
    disconnect(h, 3000);
    EXPECT_TRUE(h.replies.empty()) << "not executed by the draining node: kept";
    h.written.clear();
    reconnect(h, kDrainFacts);
    auto again = messages_written(h);
    ASSERT_EQ(again.size(), 1u) << "its one resend";
    EXPECT_EQ(again[0].seq, id);
    disconnect(h, 3000);
    ASSERT_EQ(h.replies.size(), 1u);
    EXPECT_EQ(h.replies[0].error, errc::not_executed) << "resent once only";
}

// §13.6: a request not written within its timeout (the session never got
// online) ends as not executed, and is never written afterwards.
TEST(Session, RequestNotWrittenBeforeItsTimeoutIsNotExecuted) {
    Harness h;
    h.cfg.request_timeout = 5s;
    h.cfg.backoff_min = 60s; // the outage outlasts the request
    h.cfg.backoff_max = 60s;
    online_with(h, kDrainFacts);
    lose_connection(h);
    const auto made = h.now;
    std::int64_t id = 0;
    ASSERT_FALSE(h.s->request(h.now, message_to("bob"), id));
    h.drain();
    h.to_deadline(); // the request's deadline comes before the backoff's
    EXPECT_EQ(h.now, made + 5s);
    ASSERT_EQ(h.replies.size(), 1u);
    EXPECT_EQ(h.replies[0].id, id);
    EXPECT_EQ(h.replies[0].error, errc::not_executed);
    EXPECT_EQ(h.s->pending_requests(), 0u);
    EXPECT_EQ(h.state(), State::reconnecting);

    h.written.clear();
    reconnect(h, kDrainFacts);
    EXPECT_TRUE(messages_written(h).empty()) << "never written";
    EXPECT_EQ(h.replies.size(), 1u);
}

// §13.6: a request written and unanswered at its timeout (counted from the
// call, the wait for online included) ends as outcome unknown; its late
// reply is the application's.
TEST(Session, RequestWrittenAndUnansweredAtItsTimeoutIsOutcomeUnknown) {
    Harness h;
    h.cfg.request_timeout = 2500ms;
    online_with(h, R"({"uid":"alice","heartbeat_ms":1000,"timeout_ms":3000})");
    std::int64_t id = 0;
    ASSERT_FALSE(h.s->request(h.now, message_to("bob"), id));
    h.drain();
    h.advance(2400ms);
    EXPECT_TRUE(h.replies.empty());
    h.receive(Message{0, "/heartbeat", "", {}});
    h.advance(100ms);
    ASSERT_EQ(h.replies.size(), 1u);
    EXPECT_EQ(h.replies[0].id, id);
    EXPECT_EQ(h.replies[0].error, errc::outcome_unknown);
    EXPECT_EQ(h.state(), State::online);
    h.receive(answer(uri::reply, id, "{}"));
    EXPECT_EQ(h.replies.size(), 1u);
    EXPECT_EQ(h.delivered.size(), 1u) << "a reply for no pending request is delivered";

    Harness w; // made while reconnecting, written at online, unanswered
    w.cfg.request_timeout = 2500ms;
    w.rand = 0; // the backoff's floor: 100 ms
    online_with(w, R"({"uid":"alice","heartbeat_ms":1000,"timeout_ms":3000})");
    lose_connection(w);
    const auto made = w.now;
    ASSERT_FALSE(w.s->request(w.now, message_to("bob"), id));
    reconnect(w, R"({"uid":"alice","heartbeat_ms":1000,"timeout_ms":3000})");
    ASSERT_EQ(messages_written(w).size(), 1u);
    while (w.replies.empty()) {
        w.to_deadline();
        w.receive(Message{0, "/heartbeat", "", {}});
    }
    EXPECT_EQ(w.now, made + 2500ms);
    EXPECT_EQ(w.replies[0].error, errc::outcome_unknown);
}

// close() ends a request waiting for online as not executed, never written;
// so does a terminal code; idle and closed sessions refuse at once.
TEST(Session, CloseFailsARequestWaitingForOnlineAsNotExecuted) {
    Harness h;
    online_with(h, kDrainFacts);
    lose_connection(h);
    std::int64_t id = 0;
    ASSERT_FALSE(h.s->request(h.now, message_to("bob"), id));
    h.written.clear();
    h.s->close(h.now);
    h.drain();
    ASSERT_EQ(h.replies.size(), 1u);
    EXPECT_EQ(h.replies[0].id, id);
    EXPECT_EQ(h.replies[0].error, errc::not_executed);
    EXPECT_TRUE(messages_written(h).empty());
    EXPECT_EQ(h.s->request(h.now, message_to("bob"), id), errc::not_connected) << "closed";

    Harness t; // refused credentials during the handshake: closed
    t.make();
    EXPECT_EQ(t.s->request(t.now, message_to("bob"), id), errc::not_connected) << "idle";
    t.s->start(t.now);
    t.drain();
    ASSERT_FALSE(t.s->request(t.now, message_to("bob"), id)) << "connecting: it waits";
    t.s->on_connected(t.now);
    t.drain();
    t.receive(code_msg(uri::auth_failed, 4001));
    EXPECT_EQ(t.state(), State::closed);
    ASSERT_EQ(t.replies.size(), 1u);
    EXPECT_EQ(t.replies[0].error, errc::not_executed);
    EXPECT_TRUE(messages_written(t).empty());
}

// At most max_waiting_requests wait for online (a long outage cannot take
// all memory); beyond, errc::queue_full at once. Online, the bound does not
// apply: requests are written at once.
TEST(Session, RequestsWaitingForOnlineAreBounded) {
    EXPECT_EQ(Config{}.max_waiting_requests, 1024u);
    EXPECT_EQ(Config{}.request_timeout, 10s) << "as the browser client's requestTimeoutMs";

    Harness h;
    h.cfg.max_waiting_requests = 3;
    online_with(h, R"({"uid":"alice","heartbeat_ms":1000,"timeout_ms":3000})");
    lose_connection(h);
    std::int64_t id = 0;
    for (int i = 0; i < 3; ++i) ASSERT_FALSE(h.s->request(h.now, message_to("bob"), id)) << i;
    EXPECT_EQ(h.s->request(h.now, message_to("bob"), id), errc::queue_full);
    EXPECT_EQ(id, 3) << "the refused one took no id";
    EXPECT_EQ(h.s->pending_requests(), 3u);
    h.drain();
    EXPECT_TRUE(h.replies.empty()) << "refused at once, not answered later";
    reconnect(h, R"({"uid":"alice","heartbeat_ms":1000,"timeout_ms":3000})");
    EXPECT_EQ(messages_written(h).size(), 3u);
    for (int i = 0; i < 5; ++i) ASSERT_FALSE(h.s->request(h.now, message_to("bob"), id)) << "online " << i;

    Harness d; // the default bound
    online_with(d, R"({"uid":"alice","heartbeat_ms":1000,"timeout_ms":3000})");
    lose_connection(d);
    for (int i = 0; i < 1024; ++i) ASSERT_FALSE(d.s->request(d.now, message_to("bob"), id)) << i;
    EXPECT_EQ(d.s->request(d.now, message_to("bob"), id), errc::queue_full);
}

} // namespace
} // namespace plex
