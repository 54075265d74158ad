#include "plex/session.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <random>
#include <utility>

#include <nlohmann/json.hpp>

#include "plex/errc.hpp"

namespace plex {

const char* to_string(State s) noexcept {
    switch (s) {
    case State::idle: return "idle";
    case State::connecting: return "connecting";
    case State::online: return "online";
    case State::reconnecting: return "reconnecting";
    case State::closed: return "closed";
    }
    return "unknown";
}

namespace {

// A wire code from meta "code" (decimal, 0..65535 as the node parses it), or
// fallback when absent or malformed.
int code_of(const Message& m, int fallback) {
    std::string_view s = m.get(meta::code);
    if (s.empty() || s.size() > 5) return fallback;
    int v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return fallback;
        v = v * 10 + (c - '0');
    }
    return v > 65535 ? fallback : v;
}

// A heartbeat interval or timeout from /auth/success, at most a day: far
// above any real one, and small enough that now + it cannot overflow
// Clock's nanoseconds.
std::chrono::milliseconds max_interval(std::int64_t ms) {
    constexpr std::int64_t day_ms = 24 * 60 * 60 * 1000;
    return std::chrono::milliseconds(std::min(ms, day_ms));
}

bool reserved_for_app(std::string_view u) {
    return u == uri::auth || u == uri::auth_success || u == uri::auth_failed ||
           u == uri::heartbeat || u == uri::ack || u == uri::error || u == uri::disconnect ||
           u == uri::reply || uri::push_only(u);
}

std::function<double()> default_rng() {
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

} // namespace

std::error_code encode_upstream(const Config& cfg, std::uint32_t limit, const Message& m,
                                std::string& frame) {
    if (m.uri.empty()) return errc::bad_request;
    if (reserved_for_app(m.uri)) return errc::reserved_uri;
    return append_frame(frame, cfg.order, cfg.codec, m, limit);
}

Session::Session(Config cfg, std::function<double()> rng)
    : cfg_(std::move(cfg)), rng_(rng ? std::move(rng) : default_rng()),
      decoder_(cfg_.order, cfg_.max_frame), interval_(cfg_.heartbeat),
      timeout_(cfg_.heartbeat_timeout) {
    last_seq_ = cfg_.resume_from;
    delivered_ = cfg_.resume_from;
    if (cfg_.backoff_min.count() <= 0) cfg_.backoff_min = std::chrono::milliseconds(1);
    if (cfg_.backoff_max < cfg_.backoff_min) cfg_.backoff_max = cfg_.backoff_min;
}

std::deque<Action> Session::take_actions() { return std::exchange(actions_, {}); }

std::uint32_t Session::send_limit() const noexcept {
    if (info_.max_frame != 0 && info_.max_frame < cfg_.max_frame) return info_.max_frame;
    return cfg_.max_frame;
}

std::chrono::milliseconds Session::backoff_delay(std::uint64_t failures) {
    using ms = std::chrono::milliseconds;
    const auto min = cfg_.backoff_min.count();
    const auto max = cfg_.backoff_max.count();
    auto cap = min;
    for (std::uint64_t i = 0; i < failures && cap < max; ++i) cap *= 2;
    cap = std::max(std::min(cap, max), min);
    // docs/protocol.md §13.6: uniform in [floor, cap], floor = min(100 ms,
    // backoff_min): spread, yet never a tight loop (full jitter can draw 0).
    const auto floor = std::min<ms::rep>(100, min);
    double r = std::clamp(rng_(), 0.0, 1.0);
    auto d = floor + static_cast<ms::rep>(r * static_cast<double>(cap - floor + 1));
    return ms(std::min(d, cap));
}

void Session::set_state(State s, std::error_code ec) {
    state_ = s;
    linked_ = false;
    actions_.emplace_back(action::StateChanged{s, ec});
}

void Session::start(Clock::time_point now) {
    if (state_ != State::idle && state_ != State::closed) return;
    failures_ = 0;
    info_ = SessionInfo{};
    pending_.clear(); // a closed session answered all of them
    set_state(State::connecting);
    deadline_ = now + cfg_.connect_timeout;
    actions_.emplace_back(action::Connect{failures_});
}

void Session::on_connected(Clock::time_point now) {
    if (state_ != State::connecting || linked_) return;
    decoder_ = FrameDecoder(cfg_.order, cfg_.max_frame);
    interval_ = cfg_.heartbeat;
    timeout_ = cfg_.heartbeat_timeout;
    info_ = SessionInfo{};
    bg_asked_ = bg_active_ = false;
    acked_ = 0;
    resume_sent_ = 0;
    drained_ = false;
    linked_ = true; // still connecting (§13.6): the auth handshake runs
    deadline_ = now + cfg_.connect_timeout;
    last_recv_ = now;

    Message auth;
    auth.uri = uri::auth;
    auth.body = cfg_.token;
    auth.meta.emplace(meta::version, protocol_version);
    if (!cfg_.device_id.empty()) auth.meta.emplace(meta::device, cfg_.device_id);
    if (!cfg_.app.empty()) auth.meta.emplace(meta::app, cfg_.app);
    if (cfg_.acks) {
        auth.meta.emplace(meta::acks, "1");
        if (last_seq_ > 0) {
            resume_sent_ = last_seq_;
            auth.meta.emplace(meta::resume, std::to_string(last_seq_));
        }
    }
    std::string frame;
    if (auto ec = append_frame(frame, cfg_.order, cfg_.codec, auth, default_auth_limit)) {
        // A token that cannot be encoded (not UTF-8 on JSON, too long) will
        // never work: stop instead of retrying forever.
        actions_.emplace_back(action::Disconnect{});
        fail_requests();
        set_state(State::closed, ec == errc::frame_too_large ? make_error_code(errc::invalid_config) : ec);
        return;
    }
    send_frame(now, std::move(frame));
}

void Session::on_connect_failed(Clock::time_point now, std::error_code ec) {
    if (state_ != State::connecting || linked_) return;
    fail(now, ec ? ec : make_error_code(errc::connection_lost), true);
}

void Session::on_closed(Clock::time_point now, std::error_code ec) {
    if (state_ != State::connecting && state_ != State::online) return;
    fail(now, ec ? ec : make_error_code(errc::connection_lost), true);
}

void Session::fail(Clock::time_point now, std::error_code ec, bool disconnect) {
    if (disconnect) actions_.emplace_back(action::Disconnect{});
    if (state_ == State::online) end_requests(drained_);
    drained_ = false;
    if (is_terminal(ec)) {
        fail_requests();
        set_state(State::closed, ec);
        return;
    }
    enter_backoff(now, ec);
}

// protocol §13.4: a node that announced "drain" answered everything it
// executed before its /disconnect (any code but 3008), so a request still
// unanswered then was not executed and may go out again, once (§13.6).
// Otherwise (no /disconnect, no drain, 3008) it may have run: its outcome
// is unknown. Requests already waiting were not written on this connection
// and keep waiting.
void Session::end_requests(bool drained) {
    for (auto it = pending_.begin(); it != pending_.end();) {
        auto& p = it->second;
        if (p.waiting || (drained && !p.resent)) {
            p.waiting = true;
            ++it;
            continue;
        }
        auto id = it->first;
        it = pending_.erase(it);
        answer(id, {}, drained ? errc::not_executed : errc::outcome_unknown);
    }
}

// The session stops: what waits to be written was not executed; what is
// in flight on the connection may have been.
void Session::fail_requests() {
    auto pending = std::exchange(pending_, {});
    for (auto& [id, p] : pending) answer(id, {}, p.waiting ? errc::not_executed : errc::outcome_unknown);
}

// §13.6: a request ends at its timeout, "not executed" when it was not
// written (or not since a draining node's promise), else "outcome unknown".
void Session::expire_requests(Clock::time_point now) {
    for (auto it = pending_.begin(); it != pending_.end() && it->second.deadline <= now;) {
        auto id = it->first;
        const bool waiting = it->second.waiting;
        it = pending_.erase(it);
        answer(id, {}, waiting ? errc::not_executed : errc::outcome_unknown);
    }
}

// Online: the requests made while (re)connecting, and those a draining node
// did not execute (§13.4: once more, same seq), go out in the order made
// (§13.6). A request written for the first time keeps its one resend.
void Session::write_waiting(Clock::time_point now) {
    for (auto it = pending_.begin(); it != pending_.end();) {
        auto& p = it->second;
        if (!p.waiting) {
            ++it;
            continue;
        }
        // Encoded for the previous node's limit: this one may announce less.
        if (p.frame.size() - header_size > send_limit()) {
            auto id = it->first;
            it = pending_.erase(it);
            answer(id, {}, errc::frame_too_large);
            continue;
        }
        p.waiting = false;
        if (p.written) p.resent = true;
        p.written = true;
        send_frame(now, p.frame);
        ++it;
    }
}

void Session::answer(std::int64_t id, Message reply, std::error_code ec) {
    actions_.emplace_back(action::Reply{id, std::move(reply), ec});
}

void Session::enter_backoff(Clock::time_point now, std::error_code ec) {
    // §13.6: a healthy connection (it delivered a message after the
    // handshake, or stayed online 10 s) resets the attempts; one the node
    // drops at once does not, so such a node is retried ever more slowly.
    if (state_ == State::online && (received_ || now - online_since_ >= std::chrono::seconds(10)))
        failures_ = 0;
    deadline_ = now + backoff_delay(failures_);
    ++failures_;
    set_state(State::reconnecting, ec);
}

void Session::on_data(Clock::time_point now, const void* data, std::size_t n) {
    if (!authenticating() && state_ != State::online) return;
    last_recv_ = now;
    decoder_.feed(data, n);
    bool ack_due = false;
    std::string_view body;
    std::error_code ec;
    Message m;
    while (decoder_.next(body, ec)) {
        if (auto dec = decode(cfg_.codec, body, m)) {
            // The node would close a peer for this (3007); a client cannot
            // skip a frame it cannot read, so it reconnects.
            fail(now, dec, true);
            return;
        }
        handle(now, m, ack_due);
        if (!authenticating() && state_ != State::online) return;
    }
    if (ec) {
        fail(now, ec, true);
        return;
    }
    if (ack_due) send_ack(now, /*again=*/true);
}

void Session::on_delivered(Clock::time_point now, std::int64_t seq) {
    // Above last_seq_: not a push this session delivered (a stale report
    // from before a rewind); acking it would ack seqs the app never got.
    if (seq <= delivered_ || seq > last_seq_) return;
    delivered_ = seq;
    send_ack(now, /*again=*/false);
}

void Session::send_ack(Clock::time_point now, bool again) {
    if (!cfg_.acks || state_ != State::online || delivered_ <= 0) return;
    if (delivered_ <= acked_ && !again) return;
    acked_ = delivered_;
    Message ack;
    ack.seq = delivered_;
    ack.uri = uri::ack;
    write(now, ack);
}

void Session::handle(Clock::time_point now, Message& m, bool& ack_due) {
    if (m.uri == uri::heartbeat) { // liveness was noted for every frame
        if (state_ == State::online && bg_asked_ && want_bg_ && m.get(meta::mode) == "background" &&
            info_.background_heartbeat.count() > 0 && info_.background_timeout.count() > 0) {
            bg_active_ = true; // the node applies the background timeout from now on
            interval_ = info_.background_heartbeat;
            timeout_ = info_.background_timeout;
        }
        return;
    }
    if (m.uri == uri::auth_failed) {
        fail(now, code_error(code_of(m, static_cast<int>(errc::auth_failed))), true);
        return;
    }
    if (m.uri == uri::disconnect) {
        const int code = code_of(m, static_cast<int>(errc::internal));
        drained_ = state_ == State::online && info_.drain && code != static_cast<int>(errc::outcome_unknown);
        fail(now, code_error(code), true);
        return;
    }
    if (m.uri == uri::auth_success) {
        if (authenticating()) handle_auth_success(now, m);
        return;
    }
    if (state_ != State::online) return; // nothing else is valid before auth
    received_ = true; // a push, a reply or an error: the connection is healthy (§13.6)
    if ((m.uri == uri::reply || m.uri == uri::error) && m.seq > 0) {
        auto it = pending_.find(m.seq);
        if (it != pending_.end() && !it->second.waiting) {
            pending_.erase(it);
            std::error_code ec;
            if (m.uri == uri::error) ec = code_error(code_of(m, static_cast<int>(errc::internal)));
            auto id = m.seq;
            answer(id, std::move(m), ec);
            m = Message{};
            return;
        }
    }
    if (m.seq > 0 && m.get(meta::persist) == "1") {
        // docs/protocol.md §12: a persistent seq at or below the highest one
        // already processed is a duplicate and must be dropped. The node
        // evidently lacks an ack: repeat it.
        if (m.seq <= last_seq_) {
            ack_due = true;
            return;
        }
        last_seq_ = m.seq;
    }
    actions_.emplace_back(action::Deliver{std::move(m)});
    m = Message{};
}

void Session::handle_auth_success(Clock::time_point now, const Message& m) {
    auto j = nlohmann::json::parse(m.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) { // older nodes sent no facts: keep the defaults
        auto str = [&](const char* k, std::string& out) {
            auto it = j.find(k);
            if (it == j.end()) return;
            if (it->is_string()) out = it->get<std::string>();
            else if (it->is_number()) out = it->dump();
        };
        auto ms = [&](const char* k) -> std::int64_t {
            auto it = j.find(k);
            if (it == j.end() || !it->is_number_integer()) return 0;
            return it->get<std::int64_t>();
        };
        str("uid", info_.uid);
        str("conn", info_.conn);
        str("node", info_.node);
        // The node's numbers go into time_point arithmetic in nanoseconds:
        // up to 2^63-1 ms wrapped it (signed overflow) and timed out at once.
        if (auto v = ms("heartbeat_ms"); v > 0) info_.heartbeat = max_interval(v);
        if (auto v = ms("timeout_ms"); v > 0) info_.timeout = max_interval(v);
        if (auto v = ms("background_heartbeat_ms"); v > 0) info_.background_heartbeat = max_interval(v);
        if (auto v = ms("background_timeout_ms"); v > 0) info_.background_timeout = max_interval(v);
        if (auto v = ms("max_frame"); v > 0 && v <= 0xFFFFFFFF)
            info_.max_frame = static_cast<std::uint32_t>(v);
        if (auto it = j.find("acks"); it != j.end() && it->is_boolean()) info_.acks = it->get<bool>();
        if (auto it = j.find("drain"); it != j.end() && it->is_boolean()) info_.drain = it->get<bool>();
        // A seq is 0..2^63-1; nlohmann keeps non-negative integers unsigned.
        if (auto it = j.find("resume"); it != j.end() && it->is_number_unsigned()) {
            auto v = it->get<std::uint64_t>();
            if (v <= std::uint64_t(std::numeric_limits<std::int64_t>::max()))
                info_.resume = static_cast<std::int64_t>(v);
        }
    }
    if (info_.resume && *info_.resume < resume_sent_) {
        // protocol §12: the node's store never issued the seqs this app
        // holds (they came from a store that no longer exists) and numbers
        // from below them, so dedup and acks restart from the node's point;
        // otherwise every new push would be dropped as a duplicate. acked_
        // is 0 on this connection already.
        last_seq_ = *info_.resume;
        delivered_ = *info_.resume;
        actions_.emplace_back(action::Rewind{*info_.resume});
    }
    if (info_.heartbeat.count() > 0) interval_ = info_.heartbeat;
    if (info_.timeout.count() > 0) timeout_ = info_.timeout;
    received_ = false;
    online_since_ = now;
    last_heartbeat_ = now;
    set_state(State::online);
    if (want_bg_) ask_background(now); // asked again on every connection
    write_waiting(now);
}

void Session::ask_background(Clock::time_point now) {
    if (state_ != State::online || bg_asked_ || info_.background_heartbeat.count() <= 0) return;
    bg_asked_ = true;
    Message hb;
    hb.uri = uri::heartbeat;
    hb.meta.emplace(meta::mode, "background");
    write(now, hb);
}

void Session::set_background(Clock::time_point now, bool on) {
    if (on == want_bg_) return;
    want_bg_ = on;
    if (on) {
        ask_background(now);
        return;
    }
    // Back to the foreground: the normal pace at once, then tell the node.
    const bool told = bg_asked_;
    bg_asked_ = bg_active_ = false;
    interval_ = info_.heartbeat.count() > 0 ? info_.heartbeat : cfg_.heartbeat;
    timeout_ = info_.timeout.count() > 0 ? info_.timeout : cfg_.heartbeat_timeout;
    if (told && state_ == State::online) {
        Message hb;
        hb.uri = uri::heartbeat;
        hb.meta.emplace(meta::mode, "foreground");
        write(now, hb);
    }
}

void Session::write(Clock::time_point now, const Message& m) {
    std::string frame;
    if (append_frame(frame, cfg_.order, cfg_.codec, m)) return; // control frames always encode
    send_frame(now, std::move(frame));
}

std::error_code Session::send_frame(Clock::time_point now, std::string frame) {
    if (state_ != State::online && !authenticating()) return errc::not_connected;
    last_sent_ = now;
    if (!actions_.empty()) {
        if (auto* w = std::get_if<action::Write>(&actions_.back())) {
            w->bytes += frame; // one write per event
            return {};
        }
    }
    actions_.emplace_back(action::Write{std::move(frame)});
    return {};
}

std::error_code Session::request(Clock::time_point now, Message m, std::int64_t& id) {
    if (state_ == State::idle || state_ == State::closed) return errc::not_connected;
    const bool online = state_ == State::online;
    // §13.6: connecting or reconnecting, it waits for online. Every pending
    // request waits then (end_requests ended the others), so the map's size
    // is what waits; bounded, so that a long outage cannot take all memory.
    if (!online && pending_.size() >= cfg_.max_waiting_requests) return errc::queue_full;
    m.seq = next_id_ + 1;
    std::string frame;
    if (auto ec = encode_upstream(cfg_, send_limit(), m, frame)) return ec;
    id = ++next_id_;
    Pending p{frame, now + cfg_.request_timeout};
    p.waiting = !online;
    p.written = online;
    pending_[id] = std::move(p);
    if (!online) return {};
    return send_frame(now, std::move(frame));
}

std::error_code Session::send(Clock::time_point now, const Message& m) {
    if (state_ != State::online) return errc::not_connected;
    std::string frame;
    if (auto ec = encode_upstream(cfg_, send_limit(), m, frame)) return ec;
    return send_frame(now, std::move(frame));
}

void Session::on_tick(Clock::time_point now) {
    expire_requests(now);
    switch (state_) {
    case State::connecting:
        if (now >= deadline_) fail(now, linked_ ? errc::auth_timeout : errc::connect_timeout, true);
        return;
    case State::reconnecting:
        if (now >= deadline_) {
            set_state(State::connecting);
            deadline_ = now + cfg_.connect_timeout;
            actions_.emplace_back(action::Connect{failures_});
        }
        return;
    case State::online: {
        if (now - last_recv_ >= timeout_) {
            fail(now, errc::heartbeat_timeout, true);
            return;
        }
        auto due = std::max(std::min(last_sent_, last_recv_) + interval_, last_heartbeat_ + interval_);
        if (now >= due) {
            last_heartbeat_ = now;
            Message hb;
            hb.uri = uri::heartbeat;
            write(now, hb);
        }
        return;
    }
    case State::idle:
    case State::closed: return;
    }
}

std::optional<Clock::time_point> Session::next_deadline() const {
    std::optional<Clock::time_point> d;
    switch (state_) {
    case State::connecting:
    case State::reconnecting: d = deadline_; break;
    case State::online:
        d = std::min(last_recv_ + timeout_,
                     std::max(std::min(last_sent_, last_recv_) + interval_, last_heartbeat_ + interval_));
        break;
    case State::idle:
    case State::closed: return std::nullopt; // no request pending
    }
    if (!pending_.empty()) d = std::min(*d, pending_.begin()->second.deadline); // the first ends first
    return d;
}

void Session::close(Clock::time_point) {
    if (state_ == State::closed || state_ == State::idle) return;
    if (state_ != State::reconnecting) actions_.emplace_back(action::Disconnect{});
    fail_requests();
    set_state(State::closed);
}

} // namespace plex
