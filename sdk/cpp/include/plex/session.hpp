// plex C++ SDK: the session state machine (sans-IO).
//
// Session holds every protocol decision of an app connection and none of
// the I/O: the caller reports events (connected, bytes received, connection
// lost, time passed, user calls) with the current time, and takes actions
// out (connect, write these bytes, close the socket, deliver this message,
// the state changed). It never reads a clock, never sleeps and never blocks;
// tests drive it with a fake clock and bytes (tests/session_test.cpp), and
// plex::Client drives it from its I/O thread.
//
//   idle --start--> connecting (dial, then the auth handshake) --/auth/success--> online
//                      |  ^                                                       |
//                      v  |                                                       v
//   closed <-- close / 4xxx -- reconnecting <------ failure, timeout, 3xxx, lost ---+
//
// (docs/protocol.md §13.6: the same five states as every plex client; start()
// on a closed session begins a new run, as Client::connect() after close().)
//
// Heartbeat and reconnect semantics live here, in one place:
// - any inbound frame proves liveness; nothing received for heartbeat_timeout
//   closes the connection with errc::heartbeat_timeout and reconnects;
// - /heartbeat is sent when nothing was sent for one interval, or nothing was
//   received for one interval (the node's echo then proves liveness), at most
//   once per interval; interval and timeout come from /auth/success;
// - reconnect delays grow exponentially with jitter; a 4xxx code on
//   /disconnect or /auth/failed is terminal (state closed, no reconnect).
//
// Not thread-safe: a Session belongs to one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>

#include "plex/codec.hpp"
#include "plex/config.hpp"
#include "plex/frame.hpp"
#include "plex/message.hpp"

namespace plex {

// docs/protocol.md §13.6: idle (never started), connecting (discovery, dial,
// TLS and the auth handshake), online, reconnecting (waiting out the
// backoff), closed (close() or a terminal code).
enum class State { idle, connecting, online, reconnecting, closed };

const char* to_string(State s) noexcept;

using Clock = std::chrono::steady_clock;

// Session facts announced by the node in /auth/success.
struct SessionInfo {
    std::string uid;
    std::string conn;
    std::string node;
    std::chrono::milliseconds heartbeat{0};
    std::chrono::milliseconds timeout{0};
    std::uint32_t max_frame = 0; // 0: not announced
    // Background mode's pace (§11.1); zero: the node does not offer it.
    std::chrono::milliseconds background_heartbeat{0};
    std::chrono::milliseconds background_timeout{0};
    bool acks = false;
    // The node answers every request it executed before any /disconnect
    // (protocol §13.4): unanswered requests are sent again (Session::request).
    bool drain = false;
    // The seq the node replays after (announced when the login sent resume
    // with acks); below what was sent, the session rewinds (action::Rewind).
    std::optional<std::int64_t> resume;
};

namespace action {
// Open a connection (discovery, then dial). attempt counts from 0 since the
// last time the session was online; the driver picks the address with it.
struct Connect {
    std::uint64_t attempt = 0;
};
// Write these bytes (whole frames) to the connection, in order.
struct Write {
    std::string bytes;
};
// Close the connection (or abort the connection attempt).
struct Disconnect {};
// Hand this message to the application.
struct Deliver {
    Message message;
};
// The node's store never issued the persistent seqs the app holds (they
// came from a store that no longer exists, protocol §12): numbering restarts
// after seq, so the app's highest seq becomes seq. Emitted during the
// handshake, before StateChanged{online} and before any Deliver of the new
// connection. The session has already moved its dedup mark and ack point to
// seq; the driver carries it out in order with Deliver: once the application
// has processed every message delivered before it, the app's highest seq
// (what it reports to on_delivered and saves as resume_from) is seq, and
// seqs of messages delivered before it must no longer be reported to
// on_delivered (they would ack seqs the node never sent).
struct Rewind {
    std::int64_t seq = 0;
};
// The answer to a request (Session::request), once per request: error
// empty and reply the node's /reply; or error = the node's code from
// /error (errc::forbidden, ..., errc::outcome_unknown for 3008) with reply
// the /error frame; or a local end: errc::outcome_unknown (written, and
// the connection ended without a draining node's promise, the session
// closed while it was in flight, or its request_timeout passed),
// errc::not_executed (waiting to be written, made while not online or kept
// for resending after a draining node's /disconnect, and the session
// closed or stopped or its request_timeout passed first; or a draining
// node left it unanswered a second time), errc::frame_too_large (made
// while not online, and over the max_frame the next node announced: not
// sent).
struct Reply {
    std::int64_t id = 0;
    Message reply;
    std::error_code error;
};
// The state changed; error says why (empty for a normal transition and for
// a close the application asked for).
struct StateChanged {
    State state;
    std::error_code error;
};
} // namespace action

using Action = std::variant<action::Connect, action::Write, action::Disconnect, action::Deliver,
                            action::StateChanged, action::Rewind, action::Reply>;

class Session {
public:
    // rng returns uniform doubles in [0, 1) for backoff jitter; empty = a
    // default engine seeded from std::random_device.
    explicit Session(Config cfg, std::function<double()> rng = {});

    // --- events ---
    // closed -> connecting (no-op in any other state).
    void start(Clock::time_point now);
    // The connection the last Connect asked for is open.
    void on_connected(Clock::time_point now);
    // The connection attempt failed.
    void on_connect_failed(Clock::time_point now, std::error_code ec);
    // Bytes arrived on the connection. They need not stay valid afterwards.
    void on_data(Clock::time_point now, const void* data, std::size_t n);
    // The connection ended (EOF, reset, write error).
    void on_closed(Clock::time_point now, std::error_code ec);
    // Time passed; fires whatever deadline is due (call at next_deadline()).
    void on_tick(Clock::time_point now);
    // Sends an application message (upstream). Refuses reserved URIs,
    // oversize messages and messages that cannot be encoded, and returns
    // errc::not_connected unless online.
    std::error_code send(Clock::time_point now, const Message& m);
    // Sends an already encoded frame (see encode_upstream); errc::not_connected
    // unless online or in the auth handshake (the node holds frames sent before its answer,
    // protocol §10.1) or online.
    std::error_code send_frame(Clock::time_point now, std::string frame);
    // Sends a request: m (e.g. /message, its body the request's JSON) gets
    // the next request id in seq, returned in id; the node's /reply or
    // /error with that seq comes back as one action::Reply, never as a
    // Deliver. Online, it is written at once. Connecting or reconnecting
    // (docs/protocol.md §13.6), it waits and is written when the session
    // is online, in the order made; errc::queue_full when
    // Config::max_waiting_requests already wait. Idle or closed:
    // errc::not_connected. The checks of send() otherwise (at online again
    // for the node's max_frame: over it, errc::frame_too_large, not sent).
    // Config::request_timeout after the call, on_tick ends it: with
    // errc::not_executed when it was not written (never, or not since a
    // draining node's /disconnect), errc::outcome_unknown when written and
    // unanswered. Drain (protocol §13.4, §13.6): on a node that announced
    // "drain", a request unanswered when the node's /disconnect arrives
    // (any code but 3008) was not executed: it is written again, once,
    // with the same seq, when the next connection is online (a request
    // first written on that connection keeps its one resend). Any other
    // unanswered request ends with errc::outcome_unknown when its
    // connection ends; close() ends those waiting to be written with
    // errc::not_executed.
    std::error_code request(Clock::time_point now, Message m, std::int64_t& id);
    // Requests without their answer yet (written, or waiting to be written).
    std::size_t pending_requests() const noexcept { return pending_.size(); }
    // The application has processed every persistent push up to seq (its
    // callback returned). The cumulative /ack follows from here, so a push
    // is acked only once the app has it; call it once per batch. A seq above
    // last_seq() was never delivered and is ignored; after action::Rewind
    // report only seqs of messages delivered after it.
    void on_delivered(Clock::time_point now, std::int64_t seq);
    // Background mode (docs/protocol.md §11.1, §13.6): on a node that
    // offers it, asks for the slow heartbeat pace with /heartbeat
    // mode=background and keeps the normal pace until the node's echo
    // confirms; asks again on every new connection while on. Off restores
    // the normal pace at once (mode=foreground). On a node without it,
    // nothing changes. Any state; the wish is kept across connections.
    void set_background(Clock::time_point now, bool on);
    // Whether the background pace is in force on this connection.
    bool background() const noexcept { return bg_active_; }
    // Ends the session: Disconnect, then closed. Idempotent.
    void close(Clock::time_point now);

    // --- outputs ---
    // Moves the pending actions out, in the order they must be carried out.
    std::deque<Action> take_actions();
    bool has_actions() const noexcept { return !actions_.empty(); }
    // When on_tick must be called next; nullopt: no deadline (closed).
    std::optional<Clock::time_point> next_deadline() const;

    State state() const noexcept { return state_; }
    // Highest persistent seq handed out in a Deliver action (dedup and
    // resume watermark).
    std::int64_t last_seq() const noexcept { return last_seq_; }
    // Highest persistent seq the application has processed (acked).
    std::int64_t delivered_seq() const noexcept { return delivered_; }
    const SessionInfo& info() const noexcept { return info_; }
    // Largest body this session may send: min(config, node's max_frame).
    std::uint32_t send_limit() const noexcept;
    const Config& config() const noexcept { return cfg_; }

    // The reconnect delay before attempt n+1 after n failures (with jitter);
    // exposed for tests.
    std::chrono::milliseconds backoff_delay(std::uint64_t failures);

private:
    void set_state(State s, std::error_code ec = {});
    void fail(Clock::time_point now, std::error_code ec, bool disconnect);
    void handle(Clock::time_point now, Message& m, bool& ack_due);
    void write(Clock::time_point now, const Message& m);
    void handle_auth_success(Clock::time_point now, const Message& m);
    void ask_background(Clock::time_point now);
    void enter_backoff(Clock::time_point now, std::error_code ec);
    // The connection ended: keep (drained) or fail its unanswered requests.
    void end_requests(bool drained);
    // Fails every request still pending (the session stops).
    void fail_requests();
    // Ends the requests whose request_timeout passed (§13.6).
    void expire_requests(Clock::time_point now);
    // Writes the requests waiting for online, in the order made.
    void write_waiting(Clock::time_point now);
    void answer(std::int64_t id, Message reply, std::error_code ec);
    // Connecting with the socket up: the auth handshake runs.
    bool authenticating() const noexcept { return state_ == State::connecting && linked_; }

    Config cfg_;
    std::function<double()> rng_;
    State state_ = State::idle;
    bool linked_ = false; // connecting: the socket is up, /auth/server sent
    FrameDecoder decoder_;
    std::deque<Action> actions_;
    SessionInfo info_;
    std::int64_t last_seq_ = 0;
    std::uint64_t failures_ = 0; // retries since the last healthy connection (§13.6)
    bool received_ = false;      // this connection delivered a message after auth
    bool want_bg_ = false;       // set_background(true) in force
    bool bg_asked_ = false;      // mode=background sent on this connection
    bool bg_active_ = false;     // the node confirmed: the background pace is in force
    Clock::time_point online_since_{};
    std::chrono::milliseconds interval_;
    std::chrono::milliseconds timeout_;
    Clock::time_point deadline_{};     // connect / auth / backoff deadline
    Clock::time_point last_recv_{};
    Clock::time_point last_sent_{};
    Clock::time_point last_heartbeat_{};
    std::int64_t delivered_ = 0; // highest persistent seq the app has processed
    std::int64_t acked_ = 0;     // highest seq sent in /ack on this connection
    std::int64_t resume_sent_ = 0; // resume on this connection's /auth/server (0: none)
    // A request: its encoded frame (sent again as is, same seq).
    struct Pending {
        std::string frame;
        Clock::time_point deadline; // request_timeout after the call
        // Not on the current connection: written once the session is online
        // (made while not online, or not executed by a draining node).
        bool waiting = false;
        bool written = false; // written on some connection already
        bool resent = false;  // written a second time (after a drain) already
    };
    // By request id: ids grow with time, so the first one ends first.
    std::map<std::int64_t, Pending> pending_;
    std::int64_t next_id_ = 0;
    bool drained_ = false; // this connection's /disconnect came from a draining node, not 3008
    void send_ack(Clock::time_point now, bool again);
};

// Encodes an upstream message for a session with this config and send limit:
// the checks Session::send makes, without the session (so a caller's thread
// can encode and report errors synchronously).
std::error_code encode_upstream(const Config& cfg, std::uint32_t limit, const Message& m,
                                std::string& frame);

} // namespace plex
