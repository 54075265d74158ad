// The session tests' harness: a Session driven with a fake clock and bytes,
// recording the actions it asks for (session_test.cpp,
// session_request_test.cpp).
#pragma once

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "plex/errc.hpp"
#include "plex/session.hpp"
#include "test_util.hpp"

namespace plex::session_test {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

// Runs a Session and records what it asks for.
struct Harness {
    Config cfg;
    double rand = 0.5;
    Clock::time_point now{};
    std::unique_ptr<Session> s;
    std::vector<Message> written;  // frames the session wrote, decoded
    std::vector<Message> delivered;
    std::vector<std::pair<State, std::error_code>> states;
    std::vector<action::Reply> replies; // answers to Session::request
    // Rewind actions: the seq, and how many states came before it.
    std::vector<std::pair<std::int64_t, std::size_t>> rewinds;
    int connects = 0;
    int disconnects = 0;
    std::uint64_t last_attempt = 0;

    Harness() {
        cfg.addresses = {"127.0.0.1:1"};
        cfg.token = "alice";
        cfg.device_id = "dev-1";
    }
    void make() { s = std::make_unique<Session>(cfg, [this] { return rand; }); }

    // Like the client's dispatcher: after each batch, report the highest
    // persistent seq delivered (unless auto_ack is off).
    bool auto_ack = true;
    void drain() {
        std::int64_t delivered_max = 0;
        for (auto& a : s->take_actions()) {
            if (auto* c = std::get_if<action::Connect>(&a)) {
                ++connects;
                last_attempt = c->attempt;
            } else if (auto* w = std::get_if<action::Write>(&a)) {
                auto res = test::decode_stream(cfg.order, cfg.codec, 0, {w->bytes});
                EXPECT_FALSE(res.err) << res.err.message();
                for (auto& m : res.msgs) written.push_back(m);
            } else if (std::holds_alternative<action::Disconnect>(a)) {
                ++disconnects;
            } else if (auto* d = std::get_if<action::Deliver>(&a)) {
                delivered.push_back(d->message);
                if (d->message.seq > 0 && d->message.get("persist") == "1")
                    delivered_max = std::max(delivered_max, d->message.seq);
            } else if (auto* st = std::get_if<action::StateChanged>(&a)) {
                states.emplace_back(st->state, st->error);
            } else if (auto* r = std::get_if<action::Rewind>(&a)) {
                rewinds.emplace_back(r->seq, states.size());
                delivered_max = 0; // the seqs before it are no longer reported
            } else if (auto* rep = std::get_if<action::Reply>(&a)) {
                replies.push_back(*rep);
            }
        }
        if (auto_ack && delivered_max > 0) {
            s->on_delivered(now, delivered_max);
            drain();
        }
    }
    void advance(ms d) {
        now += d;
        s->on_tick(now);
        drain();
    }
    // Moves time to the session's next deadline and fires it.
    void to_deadline() {
        auto d = s->next_deadline();
        ASSERT_TRUE(d.has_value());
        now = *d;
        s->on_tick(now);
        drain();
    }
    void receive(const Message& m) {
        std::string f;
        ASSERT_FALSE(append_frame(f, cfg.order, cfg.codec, m));
        s->on_data(now, f.data(), f.size());
        drain();
    }
    void receive_raw(const std::string& bytes) {
        s->on_data(now, bytes.data(), bytes.size());
        drain();
    }
    void auth_success(std::string body = R"({"uid":"alice","conn":"c1","node":"n1","heartbeat_ms":1000,"timeout_ms":3000,"max_frame":4096,"acks":true})") {
        Message m;
        m.uri = "/auth/success";
        m.body = std::move(body);
        receive(m);
    }
    // start + connected + auth success.
    void online() {
        if (!s) make();
        s->start(now);
        drain();
        s->on_connected(now);
        drain();
        auth_success();
        ASSERT_EQ(s->state(), State::online);
    }
    State state() const { return s->state(); }
    std::error_code last_error() const { return states.empty() ? std::error_code() : states.back().second; }
};

inline Message push(std::int64_t seq, std::string body, bool persist) {
    Message m;
    m.seq = seq;
    m.uri = "/chat";
    m.body = std::move(body);
    if (persist) m.meta = {{"persist", "1"}, {"id", "m" + std::to_string(seq)}};
    return m;
}

inline Message code_msg(std::string_view u, int code) {
    Message m;
    m.uri = u;
    m.body = "reason";
    m.meta = {{"code", std::to_string(code)}, {"reason", "reason"}};
    return m;
}

} // namespace plex::session_test
