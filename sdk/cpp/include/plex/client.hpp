// plex C++ SDK: the app client.
//
// Threading model
// ---------------
// A Client runs two threads of its own once connect() is called:
//  - the I/O thread owns the socket and the Session state machine; it polls
//    the socket, a wakeup pipe and the session's next deadline. No user code
//    ever runs on it.
//  - the dispatcher thread calls on_message and on_state, one call at a
//    time, in the order the events happened, never while the client holds
//    an internal lock. A callback may call send(), close(), state() and
//    last_seq(); it must not destroy the Client (the destructor detects it
//    and lets the dispatcher finish on its own, but that is a last resort).
//    A slow callback delays later callbacks, not the connection.
// Every public method is thread-safe. The destructor calls close(), waits
// for the I/O thread, then lets the dispatcher deliver what was already
// queued (ending with on_state(closed)) and joins it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <system_error>

#include "plex/config.hpp"
#include "plex/errc.hpp"
#include "plex/message.hpp"
#include "plex/session.hpp"

namespace plex {

// True when the SDK was built with TLS (PLEX_TLS=ON).
bool tls_available() noexcept;

class Client {
public:
    using MessageHandler = std::function<void(const Message&)>;
    // error: why the state was entered (empty for normal transitions and for
    // close()); with State::closed and an error the client stopped for good
    // (a terminal code such as errc::auth_failed); with State::reconnecting it
    // will reconnect.
    using StateHandler = std::function<void(State, std::error_code)>;

    explicit Client(Config cfg);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Callbacks; may be set at any time (set them before connect() to miss
    // nothing). Called on the dispatcher thread.
    void on_message(MessageHandler h);
    void on_state(StateHandler h);

    // Starts connecting in the background and returns at once: progress is
    // reported through on_state. Errors here are configuration errors
    // (errc::invalid_config, tls_unavailable, protobuf_unavailable, ...).
    // A no-op while the client is already running; after close() or a
    // terminal error it starts again (resuming from last_seq()).
    std::error_code connect();

    // Closes the connection and stops reconnecting; joins the I/O thread.
    // Idempotent. on_state(closed, {}) follows on the dispatcher thread.
    void close();

    // Sends an application message (upstream) on the current connection.
    // Returns errc::not_connected unless online, errc::reserved_uri for
    // protocol URIs, errc::frame_too_large over the send limit,
    // errc::invalid_utf8 for a non-UTF-8 body on JSON, errc::queue_full when
    // max_queued_bytes are waiting. {} means queued for this connection: a
    // connection that dies before writing it loses it (upstream messages are
    // at most once).
    std::error_code send(std::string_view uri, std::string_view body);
    std::error_code send(const Message& m);

    // Background mode (docs/protocol.md §11.1): on, the connection
    // heartbeats at the node's background pace once the node confirms
    // (asked again on every new connection); off, the normal pace at once.
    // On a node that does not offer it nothing changes. Any time, any
    // thread, before connect() too.
    void set_background(bool on);

    State state() const noexcept;
    // Highest persistent seq whose on_message has returned (it is acked to
    // the node after that). Save it and pass it as Config::resume_from to
    // resume after the process restarts. It goes down when a node answers a
    // resume point below it (its store never issued these seqs, protocol
    // §12): after the messages queued before were delivered, it becomes the
    // node's point.
    std::int64_t last_seq() const noexcept;
    // Facts of the current (or last) session from /auth/success.
    SessionInfo info() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

} // namespace plex
