// The session state machine, driven with a fake clock and bytes: no sockets.
#include <algorithm>

#include <gtest/gtest.h>

#include "plex/errc.hpp"
#include "plex/session.hpp"
#include "session_harness.hpp"
#include "test_util.hpp"

namespace plex {
namespace {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

using namespace session_test;

TEST(Session, HandshakeSendsAuthWithMeta) {
    Harness h;
    h.make();
    EXPECT_EQ(h.state(), State::idle);
    h.s->start(h.now);
    h.drain();
    EXPECT_EQ(h.state(), State::connecting);
    EXPECT_EQ(h.connects, 1);
    h.s->on_connected(h.now);
    h.drain();
    EXPECT_EQ(h.state(), State::connecting) << "the auth handshake is part of connecting (§13.6)";
    ASSERT_EQ(h.written.size(), 1u);
    const Message& auth = h.written[0];
    EXPECT_EQ(auth.uri, "/auth/server");
    EXPECT_EQ(auth.body, "alice");
    EXPECT_EQ(auth.meta, (Meta{{"acks", "1"}, {"device", "dev-1"}, {"v", "1"}}));
    h.auth_success();
    EXPECT_EQ(h.state(), State::online);
    EXPECT_EQ(h.s->info().uid, "alice");
    EXPECT_EQ(h.s->info().conn, "c1");
    EXPECT_EQ(h.s->info().heartbeat, 1000ms);
    EXPECT_EQ(h.s->info().timeout, 3000ms);
    EXPECT_EQ(h.s->send_limit(), 4096u);
    std::vector<State> want = {State::connecting, State::online};
    ASSERT_EQ(h.states.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(h.states[i].first, want[i]);
        EXPECT_FALSE(h.states[i].second);
    }
}

TEST(Session, AuthSuccessWithoutFactsKeepsConfigDefaults) {
    Harness h;
    h.cfg.heartbeat = 7s;
    h.make();
    h.s->start(h.now);
    h.s->on_connected(h.now);
    h.drain();
    h.auth_success(""); // the original plex sent no JSON facts
    EXPECT_EQ(h.state(), State::online);
    h.written.clear();
    h.advance(6999ms);
    EXPECT_TRUE(h.written.empty());
    h.advance(1ms);
    ASSERT_EQ(h.written.size(), 1u);
    EXPECT_EQ(h.written[0].uri, "/heartbeat");
}

TEST(Session, HeartbeatAtTheAnnouncedInterval) {
    Harness h;
    h.online();
    h.written.clear();
    EXPECT_EQ(*h.s->next_deadline(), h.now + 1000ms);
    h.advance(999ms);
    EXPECT_TRUE(h.written.empty());
    h.advance(1ms);
    ASSERT_EQ(h.written.size(), 1u);
    EXPECT_EQ(h.written[0].uri, "/heartbeat");
    // The node echoes; the next one is one interval after the last send.
    h.now += 10ms;
    h.receive(Message{0, "/heartbeat", "", {}});
    h.advance(989ms);
    EXPECT_EQ(h.written.size(), 1u);
    h.advance(1ms);
    EXPECT_EQ(h.written.size(), 2u);
    EXPECT_EQ(h.state(), State::online);
}

// Background mode (protocol §11.1, §13.6): asked with mode=background on a
// node that offers it, the normal pace kept until the node confirms, asked
// again on every new connection; off restores the normal pace at once.
TEST(Session, BackgroundModeAskedConfirmedAndRestored) {
    const std::string facts =
        R"({"heartbeat_ms":1000,"timeout_ms":3000,"background_heartbeat_ms":10000,"background_timeout_ms":30000})";
    Harness h;
    h.make();
    h.s->set_background(h.now, true); // before connecting: asked once online
    h.s->start(h.now);
    h.drain();
    h.s->on_connected(h.now);
    h.drain();
    h.written.clear();
    h.auth_success(facts);
    ASSERT_EQ(h.written.size(), 1u);
    EXPECT_EQ(h.written[0].uri, "/heartbeat");
    EXPECT_EQ(h.written[0].get("mode"), "background");
    EXPECT_FALSE(h.s->background());
    EXPECT_EQ(*h.s->next_deadline(), h.now + 1000ms) << "the normal pace until the node confirms";

    h.receive(Message{0, "/heartbeat", "", {{"mode", "background"}}}); // confirmed
    EXPECT_TRUE(h.s->background());
    h.written.clear();
    h.advance(9999ms);
    EXPECT_TRUE(h.written.empty()) << "no heartbeat before the background interval";
    h.advance(1ms);
    ASSERT_EQ(h.written.size(), 1u);
    EXPECT_EQ(h.written[0].uri, "/heartbeat");
    EXPECT_TRUE(h.written[0].get("mode").empty());
    h.advance(15000ms); // silent past the normal timeout: still online
    EXPECT_EQ(h.state(), State::online);

    h.written.clear();
    h.s->set_background(h.now, false); // off: the normal pace at once
    h.drain();
    ASSERT_EQ(h.written.size(), 1u);
    EXPECT_EQ(h.written[0].get("mode"), "foreground");
    EXPECT_FALSE(h.s->background());
    EXPECT_LE(*h.s->next_deadline(), h.now + 1000ms);

    h.s->set_background(h.now, true);
    h.drain();
    h.receive(Message{0, "/heartbeat", "", {{"mode", "background"}}});
    ASSERT_TRUE(h.s->background());
    h.s->on_closed(h.now, errc::connection_lost); // a new connection asks again
    h.drain();
    h.to_deadline();
    h.s->on_connected(h.now);
    h.drain();
    EXPECT_FALSE(h.s->background()) << "a new connection starts at the normal pace";
    h.written.clear();
    h.auth_success(facts);
    ASSERT_EQ(h.written.size(), 1u);
    EXPECT_EQ(h.written[0].get("mode"), "background");
}

// A node that does not offer background mode gets no mode request.
TEST(Session, BackgroundModeWithoutTheNodesOfferChangesNothing) {
    Harness h;
    h.online(); // facts without background_heartbeat_ms
    h.written.clear();
    h.s->set_background(h.now, true);
    h.drain();
    EXPECT_TRUE(h.written.empty());
    EXPECT_FALSE(h.s->background());
    EXPECT_EQ(*h.s->next_deadline(), h.now + 1000ms);
}

TEST(Session, SilenceFromTheNodeTriggersHeartbeatEvenWhileSending) {
    Harness h;
    h.online();
    h.written.clear();
    // Sending every 500 ms covers the node's side of liveness, but nothing
    // comes back: after one interval of silence a heartbeat asks for an echo.
    for (int i = 0; i < 2; ++i) {
        h.advance(500ms);
        ASSERT_FALSE(h.s->send(h.now, Message{0, "/up", "x", {}}));
        h.drain();
    }
    std::vector<std::string> uris;
    for (auto& m : h.written) uris.push_back(m.uri);
    EXPECT_EQ(uris, (std::vector<std::string>{"/up", "/heartbeat", "/up"}));
    // Not again before one more interval.
    h.advance(999ms);
    EXPECT_EQ(h.written.size(), 3u);
    h.advance(1ms);
    EXPECT_EQ(h.written.size(), 4u);
}

TEST(Session, ReceivingPostponesNothingWhenTheAppIsSilent) {
    Harness h;
    h.online();
    h.written.clear();
    // The node pushes every 400 ms; the app still owes the node a frame
    // every interval.
    h.now += 400ms;
    h.receive(push(0, "x", false));
    h.now += 400ms;
    h.receive(push(0, "x", false));
    h.advance(200ms);
    ASSERT_EQ(h.written.size(), 1u);
    EXPECT_EQ(h.written[0].uri, "/heartbeat");
}

TEST(Session, LivenessTimeoutReconnects) {
    Harness h;
    h.online();
    h.advance(2999ms);
    EXPECT_EQ(h.state(), State::online);
    h.advance(1ms);
    EXPECT_EQ(h.state(), State::reconnecting);
    EXPECT_EQ(h.last_error(), errc::heartbeat_timeout);
    EXPECT_EQ(h.disconnects, 1);
    h.to_deadline();
    EXPECT_EQ(h.state(), State::connecting);
    EXPECT_EQ(h.connects, 2);
}

TEST(Session, AnyInboundFrameIsLiveness) {
    Harness h;
    h.online();
    for (int i = 0; i < 10; ++i) {
        h.now += 2000ms;
        h.receive(push(0, "x", false));
        h.s->on_tick(h.now);
        h.drain();
        ASSERT_EQ(h.state(), State::online) << i;
    }
}

// docs/protocol.md §13.6: retry n waits uniformly in [floor, cap_n],
// cap_n = min(max, min·2^n), floor = min(100 ms, min); a healthy connection
// (a message after auth, or 10 s online) resets n, one dropped at once not.
TEST(Session, BackoffIsExponentialJitteredAndCapped) {
    Harness h;
    h.cfg.backoff_min = 100ms;
    h.cfg.backoff_max = 1000ms;
    h.make();
    h.rand = 0.0; // the lowest draw: the floor, never 0
    EXPECT_EQ(h.s->backoff_delay(0), 100ms);
    EXPECT_EQ(h.s->backoff_delay(3), 100ms);
    EXPECT_EQ(h.s->backoff_delay(60), 100ms) << "no overflow";
    h.rand = 0.999999; // the highest draw: the cap
    EXPECT_EQ(h.s->backoff_delay(0), 100ms);
    EXPECT_EQ(h.s->backoff_delay(3), 800ms);
    EXPECT_EQ(h.s->backoff_delay(10), 1000ms) << "capped";
    h.cfg.backoff_min = 40ms; // a min below 100 ms lowers the floor
    h.make();
    h.rand = 0.0;
    EXPECT_EQ(h.s->backoff_delay(0), 40ms);
    h.cfg.backoff_min = 100ms;
    h.make();

    // Consecutive failures grow the delay; attempts count up.
    h.rand = 1.0;
    h.s->start(h.now);
    h.drain();
    std::vector<ms> delays;
    for (int i = 0; i < 6; ++i) {
        h.s->on_connect_failed(h.now, std::make_error_code(std::errc::connection_refused));
        h.drain();
        ASSERT_EQ(h.state(), State::reconnecting);
        EXPECT_EQ(h.last_error(), std::errc::connection_refused);
        auto t0 = h.now;
        h.to_deadline();
        delays.push_back(std::chrono::duration_cast<ms>(h.now - t0));
        EXPECT_EQ(h.last_attempt, std::uint64_t(i + 1));
    }
    EXPECT_EQ(delays, (std::vector<ms>{100ms, 200ms, 400ms, 800ms, 1000ms, 1000ms}));

    // A connection the node drops right after auth does not reset the count.
    h.s->on_connected(h.now);
    h.drain();
    h.auth_success();
    h.s->on_closed(h.now, {});
    h.drain();
    EXPECT_EQ(h.last_error(), errc::connection_lost);
    auto t0 = h.now;
    h.to_deadline();
    EXPECT_EQ(h.now - t0, 1000ms) << "dropped at once: still the cap";

    // One that delivered a message does.
    h.s->on_connected(h.now);
    h.drain();
    h.auth_success();
    h.receive(push(0, "x", false));
    h.s->on_closed(h.now, {});
    h.drain();
    t0 = h.now;
    h.to_deadline();
    EXPECT_EQ(h.now - t0, 100ms);
    EXPECT_EQ(h.last_attempt, 1u) << "first retry after a healthy connection";

    // So does one that stayed online 10 s without a message.
    for (int i = 0; i < 3; ++i) {
        h.s->on_connect_failed(h.now, std::make_error_code(std::errc::connection_refused));
        h.drain();
        h.to_deadline();
    }
    h.s->on_connected(h.now);
    h.drain();
    h.auth_success();
    for (int i = 0; i < 10; ++i) { // heartbeats keep it alive, they are not messages
        h.advance(1s);
        h.receive(Message{0, "/heartbeat", "", {}});
    }
    h.s->on_closed(h.now, {});
    h.drain();
    t0 = h.now;
    h.to_deadline();
    EXPECT_EQ(h.now - t0, 100ms);
}

TEST(Session, AuthFailedIsTerminal) {
    Harness h;
    h.make();
    h.s->start(h.now);
    h.s->on_connected(h.now);
    h.drain();
    h.receive(code_msg("/auth/failed", 4001));
    EXPECT_EQ(h.state(), State::closed);
    EXPECT_EQ(h.last_error(), errc::auth_failed);
    EXPECT_EQ(h.disconnects, 1);
    EXPECT_FALSE(h.s->next_deadline());
    h.advance(1h);
    EXPECT_EQ(h.connects, 1) << "no reconnect after a terminal code";
}

TEST(Session, AuthFailedWithoutCodeIsAuthFailed) {
    Harness h;
    h.make();
    h.s->start(h.now);
    h.s->on_connected(h.now);
    h.drain();
    h.receive(Message{0, "/auth/failed", "bad token", {}}); // the original node's shape
    EXPECT_EQ(h.state(), State::closed);
    EXPECT_EQ(h.last_error(), errc::auth_failed);
}

TEST(Session, CodesDecideReconnect) {
    struct {
        std::string_view uri;
        int code;
        State want;
    } cases[] = {
        {"/disconnect", 3000, State::reconnecting}, {"/disconnect", 3001, State::reconnecting},
        {"/disconnect", 3999, State::reconnecting}, {"/disconnect", 4002, State::closed},
        {"/disconnect", 4030, State::closed},  {"/disconnect", 4999, State::closed},
        {"/auth/failed", 3005, State::reconnecting}, {"/auth/failed", 4005, State::closed},
    };
    for (const auto& c : cases) {
        Harness h;
        h.online();
        h.receive(code_msg(c.uri, c.code));
        EXPECT_EQ(h.state(), c.want) << c.uri << " " << c.code;
        EXPECT_EQ(h.last_error(), code_error(c.code));
        EXPECT_EQ(h.disconnects, 1);
    }
    Harness h; // a /disconnect without a code: internal, reconnect
    h.online();
    h.receive(Message{0, "/disconnect", "", {}});
    EXPECT_EQ(h.state(), State::reconnecting);
    EXPECT_EQ(h.last_error(), errc::internal);
}

TEST(Session, ErrorFramesAreDeliveredNotFatal) {
    Harness h;
    h.online();
    h.receive(code_msg("/error", 4003));
    EXPECT_EQ(h.state(), State::online);
    ASSERT_EQ(h.delivered.size(), 1u);
    EXPECT_EQ(h.delivered[0].uri, "/error");
    // 3xxx on /error answers one request too (3008: outcome unknown): the
    // connection stays, the app reads the code from the delivered frame.
    h.receive(code_msg("/error", 3008));
    EXPECT_EQ(h.state(), State::online);
    EXPECT_EQ(h.disconnects, 0);
    ASSERT_EQ(h.delivered.size(), 2u);
    EXPECT_EQ(code_error(std::stoi(std::string(h.delivered[1].get("code")))), errc::outcome_unknown);
}

TEST(Session, PersistentPushesAreAckedCumulativelyAndDeduplicated) {
    Harness h;
    h.online();
    h.written.clear();
    std::string two;
    ASSERT_FALSE(append_frame(two, h.cfg.order, h.cfg.codec, push(1, "a", true)));
    ASSERT_FALSE(append_frame(two, h.cfg.order, h.cfg.codec, push(2, "b", true)));
    ASSERT_FALSE(append_frame(two, h.cfg.order, h.cfg.codec, push(0, "t", false)));
    h.receive_raw(two);
    ASSERT_EQ(h.delivered.size(), 3u);
    ASSERT_EQ(h.written.size(), 1u) << "one cumulative ack per read";
    EXPECT_EQ(h.written[0].uri, "/ack");
    EXPECT_EQ(h.written[0].seq, 2);
    EXPECT_EQ(h.s->last_seq(), 2);

    h.receive(push(2, "b", true)); // redelivered: dropped, acked again
    h.receive(push(1, "a", true));
    EXPECT_EQ(h.delivered.size(), 3u);
    EXPECT_EQ(h.written.size(), 3u);
    EXPECT_EQ(h.written.back().seq, 2);

    // A transient message with a seq (e.g. a request id) is not deduplicated.
    h.receive(push(1, "r", false));
    EXPECT_EQ(h.delivered.size(), 4u);

    // Reconnect: resume from the last seq.
    h.s->on_closed(h.now, {});
    h.drain();
    h.to_deadline();
    h.written.clear();
    h.s->on_connected(h.now);
    h.drain();
    ASSERT_EQ(h.written.size(), 1u);
    EXPECT_EQ(h.written[0].get("resume"), "2");
    EXPECT_EQ(h.written[0].get("acks"), "1");
}

TEST(Session, AckOnlyAfterTheAppProcessedThePush) {
    Harness h;
    h.auto_ack = false;
    h.online();
    h.written.clear();
    h.receive(push(1, "a", true));
    h.receive(push(2, "b", true));
    EXPECT_EQ(h.delivered.size(), 2u);
    EXPECT_TRUE(h.written.empty()) << "nothing acked before the callback returned";
    EXPECT_EQ(h.s->last_seq(), 2);
    EXPECT_EQ(h.s->delivered_seq(), 0);
    h.s->on_delivered(h.now, 1);
    h.drain();
    ASSERT_EQ(h.written.size(), 1u);
    EXPECT_EQ(h.written[0].seq, 1);
    h.s->on_delivered(h.now, 1); // not again
    h.s->on_delivered(h.now, 2);
    h.drain();
    ASSERT_EQ(h.written.size(), 2u);
    EXPECT_EQ(h.written[1].seq, 2);
    // A node that sends seq 1 again after a reconnect without resume (it
    // lacked the ack) gets the ack repeated; the app does not see it again.
    h.receive(push(1, "a", true));
    EXPECT_EQ(h.delivered.size(), 2u);
    ASSERT_EQ(h.written.size(), 3u);
    EXPECT_EQ(h.written[2].seq, 2);
}

TEST(Session, AcksOffSendsNoAckAndNoResume) {
    Harness h;
    h.cfg.acks = false;
    h.cfg.resume_from = 5;
    h.make();
    h.online();
    EXPECT_EQ(h.written[0].get("acks"), "");
    EXPECT_EQ(h.written[0].get("resume"), "");
    h.written.clear();
    h.receive(push(6, "x", true));
    EXPECT_EQ(h.delivered.size(), 1u);
    EXPECT_TRUE(h.written.empty());
}

TEST(Session, ResumeFromConfig) {
    Harness h;
    h.cfg.resume_from = 41;
    h.make();
    h.online();
    EXPECT_EQ(h.written[0].get("resume"), "41");
    h.receive(push(41, "old", true));
    EXPECT_TRUE(h.delivered.empty()) << "seq <= what the app holds is a duplicate (protocol §12)";
    h.receive(push(42, "new", true));
    EXPECT_EQ(h.delivered.size(), 1u);
}

// Logs in with resume_from = sent and the node answering "resume": answer.
void online_with_resume(Harness& h, std::int64_t sent, std::int64_t answer) {
    h.cfg.resume_from = sent;
    h.make();
    h.s->start(h.now);
    h.drain();
    h.s->on_connected(h.now);
    h.drain();
    ASSERT_EQ(h.written.size(), 1u);
    EXPECT_EQ(h.written[0].get("resume"), std::to_string(sent));
    h.auth_success(R"({"uid":"alice","heartbeat_ms":1000,"timeout_ms":3000,"acks":true,"resume":)" +
                   std::to_string(answer) + "}");
    ASSERT_EQ(h.state(), State::online);
    ASSERT_TRUE(h.s->info().resume.has_value());
    EXPECT_EQ(*h.s->info().resume, answer);
    h.written.clear();
}

// protocol §12: resume below what was sent means the node's store never
// issued the app's seqs; keeping the old mark would drop every new push.
TEST(Session, ResumeBelowWhatWasSentRewinds) {
    Harness h;
    online_with_resume(h, 1000, 0);
    ASSERT_EQ(h.rewinds.size(), 1u);
    EXPECT_EQ(h.rewinds[0].first, 0);
    EXPECT_EQ(h.rewinds[0].second, 1u) << "after connecting, before online";
    EXPECT_EQ(h.s->last_seq(), 0);
    EXPECT_EQ(h.s->delivered_seq(), 0);
    EXPECT_TRUE(h.written.empty()) << "nothing acked for the rewind itself";

    h.receive(push(5, "new", true));
    ASSERT_EQ(h.delivered.size(), 1u) << "seq 5 of the new store is not a duplicate";
    EXPECT_EQ(h.delivered[0].seq, 5);
    ASSERT_EQ(h.written.size(), 1u);
    EXPECT_EQ(h.written[0].uri, "/ack");
    EXPECT_EQ(h.written[0].seq, 5);
    h.receive(push(5, "new", true));
    EXPECT_EQ(h.delivered.size(), 1u) << "dedup restarts from the node's point";

    // A late report of an old seq (from before the rewind) acks nothing.
    h.s->on_delivered(h.now, 1000);
    h.drain();
    EXPECT_EQ(h.written.size(), 2u);
    EXPECT_EQ(h.written.back().seq, 5);
    EXPECT_EQ(h.s->delivered_seq(), 5);

    // The next login resumes from the new numbering.
    h.s->on_closed(h.now, {});
    h.drain();
    h.to_deadline();
    h.written.clear();
    h.s->on_connected(h.now);
    h.drain();
    ASSERT_EQ(h.written.size(), 1u);
    EXPECT_EQ(h.written[0].get("resume"), "5");
}

TEST(Session, ResumeBelowWhatWasSentRewindsToTheCursor) {
    Harness h;
    online_with_resume(h, 1000, 300); // a store that replays from the device's cursor
    ASSERT_EQ(h.rewinds.size(), 1u);
    EXPECT_EQ(h.rewinds[0].first, 300);
    EXPECT_EQ(h.s->last_seq(), 300);
    h.receive(push(300, "held", true));
    EXPECT_TRUE(h.delivered.empty());
    ASSERT_EQ(h.written.size(), 1u) << "a duplicate repeats the ack, at the node's point";
    EXPECT_EQ(h.written[0].seq, 300);
    h.receive(push(301, "next", true));
    ASSERT_EQ(h.delivered.size(), 1u);
    ASSERT_EQ(h.written.size(), 2u);
    EXPECT_EQ(h.written[1].seq, 301);
}

TEST(Session, ResumeAsSentChangesNothing) {
    Harness h;
    online_with_resume(h, 1000, 1000);
    EXPECT_TRUE(h.rewinds.empty());
    EXPECT_EQ(h.s->last_seq(), 1000);
    EXPECT_EQ(h.s->delivered_seq(), 1000);
    h.receive(push(5, "old", true));
    h.receive(push(1000, "old", true));
    EXPECT_TRUE(h.delivered.empty()) << "seq <= 1000 is still a duplicate";
    h.receive(push(1001, "new", true));
    ASSERT_EQ(h.delivered.size(), 1u);
    EXPECT_EQ(h.written.back().uri, "/ack");
    EXPECT_EQ(h.written.back().seq, 1001);
}

TEST(Session, ResumeAnswerIgnoredWhenNothingWasSentOrMalformed) {
    struct Case {
        const char* name;
        std::int64_t sent;
        std::string answer; // the JSON value of "resume"
    };
    for (const auto& c : std::vector<Case>{{"nothing sent", 0, "0"},
                                          {"negative", 1000, "-1"},
                                          {"above int64", 1000, "18446744073709551615"},
                                          {"fraction", 1000, "1.5"},
                                          {"string", 1000, "\"3\""}}) {
        SCOPED_TRACE(c.name);
        Harness h;
        h.cfg.resume_from = c.sent;
        h.make();
        h.s->start(h.now);
        h.drain();
        h.s->on_connected(h.now);
        h.drain();
        h.auth_success(R"({"uid":"alice","acks":true,"resume":)" + c.answer + "}");
        ASSERT_EQ(h.state(), State::online);
        EXPECT_TRUE(h.rewinds.empty());
        EXPECT_EQ(h.s->last_seq(), c.sent);
    }
}

TEST(Session, SendChecks) {
    Harness h;
    h.make();
    EXPECT_EQ(h.s->send(h.now, Message{0, "/up", "x", {}}), errc::not_connected);
    h.online();
    h.written.clear();
    EXPECT_EQ(h.s->send(h.now, Message{0, "", "x", {}}), errc::bad_request);
    for (auto u : {"/auth/server", "/heartbeat", "/ack", "/inner/push", "/logic/send/msg", "/disconnect"})
        EXPECT_EQ(h.s->send(h.now, Message{0, u, "x", {}}), errc::reserved_uri) << u;
    EXPECT_EQ(h.s->send(h.now, Message{0, "/up", "\xff", {}}), errc::invalid_utf8);
    // The node announced max_frame 4096.
    EXPECT_EQ(h.s->send(h.now, Message{0, "/up", std::string(5000, 'x'), {}}), errc::frame_too_large);
    EXPECT_FALSE(h.s->send(h.now, Message{0, "/room/join", "r1", {}}));
    EXPECT_FALSE(h.s->send(h.now, Message{0, "/up", std::string(4000, 'x'), {}}));
    h.drain();
    ASSERT_EQ(h.written.size(), 2u);
    EXPECT_EQ(h.written[0].uri, "/room/join");
}

TEST(Session, FramesSplitAcrossReads) {
    Harness h;
    h.online();
    std::string f;
    ASSERT_FALSE(append_frame(f, h.cfg.order, h.cfg.codec, push(0, "split", false)));
    for (char c : f) h.receive_raw(std::string(1, c));
    ASSERT_EQ(h.delivered.size(), 1u);
    EXPECT_EQ(h.delivered[0].body, "split");
}

TEST(Session, OversizeOrGarbageFromNodeReconnects) {
    Harness h;
    h.cfg.max_frame = 256;
    h.make();
    h.online();
    h.receive_raw(test::frame_of(Order::big, std::string(257, 'x')));
    EXPECT_EQ(h.state(), State::reconnecting);
    EXPECT_EQ(h.last_error(), errc::frame_too_large);

    Harness g;
    g.online();
    g.receive_raw(test::frame_of(Order::big, "{nope"));
    EXPECT_EQ(g.state(), State::reconnecting);
    EXPECT_EQ(g.last_error(), errc::bad_json);
}

TEST(Session, ConnectAndAuthTimeouts) {
    Harness h;
    h.cfg.connect_timeout = 2s;
    h.make();
    h.s->start(h.now);
    h.drain();
    h.advance(1999ms);
    EXPECT_EQ(h.state(), State::connecting);
    h.advance(1ms);
    EXPECT_EQ(h.state(), State::reconnecting);
    EXPECT_EQ(h.last_error(), errc::connect_timeout);
    h.to_deadline();
    h.s->on_connected(h.now);
    h.drain();
    h.advance(2s);
    EXPECT_EQ(h.state(), State::reconnecting);
    EXPECT_EQ(h.last_error(), errc::auth_timeout);
    EXPECT_EQ(h.disconnects, 2);
}

TEST(Session, CloseIsFinalAndIdempotent) {
    Harness h;
    h.online();
    h.s->close(h.now);
    h.drain();
    EXPECT_EQ(h.state(), State::closed);
    EXPECT_FALSE(h.last_error()) << "a close the app asked for has no error";
    EXPECT_EQ(h.disconnects, 1);
    h.s->close(h.now);
    h.receive(push(1, "late", true));
    h.s->on_closed(h.now, {});
    h.advance(1h);
    h.drain();
    EXPECT_TRUE(h.delivered.empty());
    EXPECT_EQ(h.states.back().first, State::closed);
    EXPECT_EQ(h.connects, 1);
    // And it can be started again.
    h.s->start(h.now);
    h.drain();
    EXPECT_EQ(h.state(), State::connecting);
}

TEST(Session, CloseDuringBackoffNeedsNoDisconnect) {
    Harness h;
    h.online();
    h.s->on_closed(h.now, {});
    h.drain();
    int d = h.disconnects;
    h.s->close(h.now);
    h.drain();
    EXPECT_EQ(h.disconnects, d);
    EXPECT_EQ(h.state(), State::closed);
}

TEST(Session, TokenThatCannotBeEncodedStops) {
    Harness h;
    h.cfg.token = "\xff";
    h.make();
    h.s->start(h.now);
    h.s->on_connected(h.now);
    h.drain();
    EXPECT_EQ(h.state(), State::closed);
    EXPECT_EQ(h.last_error(), errc::invalid_utf8);
}

TEST(Session, LittleEndianFrames) {
    Harness h;
    h.cfg.order = Order::little;
    h.make();
    h.online();
    EXPECT_EQ(h.written[0].uri, "/auth/server");
}

} // namespace
} // namespace plex
