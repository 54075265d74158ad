// plex C++ SDK: error codes.
//
// Every error the SDK reports is a std::error_code. Errors that come from
// the wire carry the node's numeric code unchanged (errc::auth_failed is
// 4001), so `ec.value()` is the code from docs/protocol.md §Codes and a code
// this SDK does not know still keeps its number. The category's message()
// gives the code's text ("auth failed").
//
// The rule every client applies, including to unknown codes: 3xxx means the
// connection ended for a reason a new connection can fix (reconnect with
// backoff); 4xxx on /disconnect or /auth/failed means stop.
#pragma once

#include <string>
#include <system_error>

namespace plex {

enum class errc : int {
    // Local decoding errors (the wire's golden-vector error names).
    truncated = 1,    // the stream ended inside a frame
    bad_json = 2,     // the body is not a JSON object of the message shape
    wrong_type = 3,   // a known JSON field has the wrong type (e.g. "seq":"1")
    invalid_utf8 = 4, // a JSON string, a protobuf string, or a JSON body is not UTF-8
    bad_protobuf = 5, // the body is not a valid protobuf Message
    empty_body = 6,   // a zero-length body where the codec must be detected

    // Local client errors.
    not_connected = 20,        // send() while the session is not online
    closed = 21,               // the client was closed
    connect_timeout = 22,      // TCP connect (or TLS handshake) took longer than connect_timeout
    connection_lost = 23,      // the peer closed the connection without a /disconnect frame
    discovery_failed = 24,     // GET /plex/v1/host failed and no fallback address worked
    invalid_config = 25,       // Config is unusable (no address, bad URL, ...)
    reserved_uri = 26,         // send() of a URI the protocol reserves for itself
    queue_full = 27,           // the outbound queue is at Config::max_queued_bytes, or
                               // Config::max_waiting_requests requests wait for online
    protocol_error = 28,       // the peer broke the protocol (e.g. bad /auth/success)
    tls_failed = 29,           // TLS setup or handshake failed
    tls_unavailable = 30,      // TLS requested but the SDK was built without PLEX_TLS
    protobuf_unavailable = 31, // protobuf requested but the SDK was built without PLEX_PROTOBUF
    // A request (Client::message) was not executed: it was never written
    // (made while not online, protocol §13.6) and Config::request_timeout
    // passed or the client closed first; or a draining node left it
    // unanswered at its /disconnect (protocol §13.4) and the client closed
    // or the timeout passed, or that node's successor left it unanswered
    // too, before it could be answered. Sending it again cannot duplicate it.
    not_executed = 32,

    // Wire codes (docs/protocol.md §Codes). 3xxx: reconnect with backoff.
    shutdown = 3000,
    heartbeat_timeout = 3001,
    slow_consumer = 3002,
    auth_timeout = 3003,
    too_many_connections = 3004,
    internal = 3005, // on /error: the request was not executed (nothing stored); retry is safe
    frame_too_large = 3006, // also the local decoder's and send()'s limit error
    bad_frame = 3007,
    // On /error: the node could not tell whether the request (a
    // persistent push, a /message) was stored; it may still be delivered.
    // Do not blindly retry (docs/protocol.md §13.5). Never ends a connection.
    // Also a request's error when it was written and its answer was lost
    // with the connection (no draining node's promise, §13.4).
    outcome_unknown = 3008,
    // 4xxx: terminal on /disconnect or /auth/failed.
    auth_failed = 4001,
    replaced = 4002,
    forbidden = 4003,
    bad_request = 4004,
    unsupported_version = 4005,
    not_found = 4006,
    rate_limited = 4029,
    refused = 4030,
};

// The category of every plex error; its name() is "plex".
const std::error_category& category() noexcept;

std::error_code make_error_code(errc e) noexcept;

// A wire code as an error_code of the plex category (known or not).
std::error_code code_error(int wire_code) noexcept;

// True when ec is a plex wire code at which a client must stop reconnecting
// (>= 4000, as the node sent it on /disconnect or /auth/failed).
bool is_terminal(std::error_code ec) noexcept;

// The short text of a wire code ("auth failed"), or "code N" when unknown.
std::string code_text(int wire_code);

} // namespace plex

namespace std {
template <>
struct is_error_code_enum<plex::errc> : true_type {};
} // namespace std
