// plex C++ SDK: the app client.
//
// Threading model
// ---------------
// A Client runs two threads of its own once connect() is called:
//  - the I/O thread owns the socket and the Session state machine; it polls
//    the socket, a wakeup pipe and the session's next deadline. No user code
//    ever runs on it.
//  - the dispatcher thread calls on_message, on_state and the callbacks of
//    message() and message_room(), one call at a time, in the order the
//    events happened, never while the client holds an internal lock. A
//    callback may call send(), message(), close(), state() and last_seq();
//    it must not destroy the Client (the destructor detects it and lets the
//    dispatcher finish on its own, but that is a last resort).
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

// The node's answer to Client::message and Client::message_room: the
// /reply of /message (docs/protocol.md §8.1).
struct MessageResult {
    // The message id; every recipient's copy carries it in meta "id".
    std::string id;
    // To a user: the message's persistent seq in the recipient's stream. To
    // a room: the seq of this user's own copy (0 when not a member); this
    // connection does not receive that copy.
    std::int64_t seq = 0;
    // Copies stored: 1 to a user, one per member to a room (members offline
    // get theirs on their next connection).
    std::int64_t stored = 0;
    // Connections the copies were written to; for a room, this one not counted.
    std::int64_t delivered = 0;
};

class Client {
public:
    using MessageHandler = std::function<void(const Message&)>;
    // error: why the state was entered (empty for normal transitions and for
    // close()); with State::closed and an error the client stopped for good
    // (a terminal code such as errc::auth_failed); with State::reconnecting it
    // will reconnect.
    using StateHandler = std::function<void(State, std::error_code)>;
    // The answer to a message: error empty and the node's result; or the
    // node's refusal (errc::forbidden 4003: not allowed or not a member,
    // bad_request 4004, not_found 4006: a room without members,
    // rate_limited 4029, internal 3005: not stored), errc::outcome_unknown
    // (the node answered 3008, or the message was written and its answer
    // was lost or did not come within Config::request_timeout: it may have
    // been delivered, sending it again may deliver it twice),
    // errc::not_executed (not written before its request_timeout or before
    // close(), or not executed by a draining node), errc::closed,
    // errc::not_connected, errc::queue_full or errc::frame_too_large (the
    // client stopped, or too many messages waited for online, or the
    // next node's limit is lower, before it was written): all of these but
    // outcome_unknown mean not executed, safe to send again.
    using MessageCallback = std::function<void(std::error_code, const MessageResult&)>;

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

    // Sends body (UTF-8 text) to user `to` of the same app (/message,
    // docs/protocol.md §8.1); conversation ("" for none) is an opaque id
    // the recipient gets in meta "conversation". The recipient receives a
    // Message with uri "/message" and meta "from" (this user, set by the
    // node), "id", "ts", "persist", "conversation"; the node stores it, so
    // an offline recipient gets it on their next connection. Messaging is
    // off unless the node's app allows it (4003).
    //
    // {} means taken: done is called exactly once, on the dispatcher
    // thread, with the node's answer or why there is none. Online, the
    // message is written at once; connecting or reconnecting
    // (docs/protocol.md §13.6), it waits and is written when the client is
    // online, in the order made, within Config::request_timeout from this
    // call (not written by then: errc::not_executed; written and
    // unanswered: errc::outcome_unknown). An error means nothing was sent
    // and done is never called: errc::not_connected before connect() or
    // once closed, errc::bad_request for an empty recipient,
    // errc::invalid_utf8, errc::frame_too_large, errc::queue_full (also
    // when Config::max_waiting_requests messages already wait for online),
    // errc::closed.
    //
    // Drain (protocol §13.4, §13.6): a message that a node announcing
    // "drain" left unanswered at its /disconnect (any code but 3008) was
    // not executed; it goes out again, once, with the same seq, when the
    // next connection is online, and done gets that answer (or
    // errc::not_executed when the client closes first). Without that
    // promise (no drain, 3008, a connection that just died) an unanswered
    // message ends with errc::outcome_unknown.
    std::error_code message(std::string_view to, std::string_view body, std::string_view conversation,
                            MessageCallback done);
    // The same to every member of room (a group message, §8.1): each member,
    // this user included, gets its own stored copy with meta "room"; this
    // connection does not receive it, this user's other connections do.
    // Only members may message a room by default (4003).
    std::error_code message_room(std::string_view room, std::string_view body, std::string_view conversation,
                                 MessageCallback done);

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
    std::error_code request_message(const char* key, std::string_view target, std::string_view body,
                                    std::string_view conversation, MessageCallback done);
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

} // namespace plex
