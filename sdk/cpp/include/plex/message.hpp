// plex C++ SDK: the wire message and the protocol's reserved names.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace plex {

// Meta headers, sorted by key (the order both codecs write them in);
// std::less<> allows lookups by std::string_view without a copy.
using Meta = std::map<std::string, std::string, std::less<>>;

// Message is one plex message: the body of one frame (docs/protocol.md
// §Message). body is bytes (std::string is used as a byte container); on
// the JSON codec it travels as a JSON string and must be valid UTF-8.
struct Message {
    // Per-user sequence of a stored push, or a request id the reply repeats.
    // Zero is omitted on the wire.
    std::int64_t seq = 0;
    // What the message is (a reserved URI or the application's own).
    std::string uri;
    // Payload. Empty is omitted on the wire.
    std::string body;
    // Headers (standard keys below). Omitted on the wire when empty.
    Meta meta;

    // The value of a meta key, "" when absent.
    std::string_view get(std::string_view key) const {
        auto it = meta.find(key);
        return it == meta.end() ? std::string_view() : std::string_view(it->second);
    }

    friend bool operator==(const Message& a, const Message& b) {
        return a.seq == b.seq && a.uri == b.uri && a.body == b.body && a.meta == b.meta;
    }
    friend bool operator!=(const Message& a, const Message& b) { return !(a == b); }
};

// Reserved URIs (docs/protocol.md §URIs).
namespace uri {
inline constexpr std::string_view auth = "/auth/server";          // app → node, body = token
inline constexpr std::string_view auth_success = "/auth/success"; // node → app, body = JSON facts
inline constexpr std::string_view auth_failed = "/auth/failed";   // node → app, then close
inline constexpr std::string_view heartbeat = "/heartbeat";       // both ways; the node echoes
inline constexpr std::string_view ack = "/ack";                   // app → node, cumulative seq
inline constexpr std::string_view error = "/error";               // node → app, non-fatal
inline constexpr std::string_view disconnect = "/disconnect";     // node → app, last frame
inline constexpr std::string_view room_join = "/room/join";       // app → node, body = room
inline constexpr std::string_view room_leave = "/room/leave";     // app → node, body = room
inline constexpr std::string_view reply = "/reply";               // node → app, request outcome
inline constexpr std::string_view message = "/message"; // app → node: to a user or a room (§8.1); node → app

// True for URIs only push clients may send (/inner/..., /logic/...).
inline bool push_only(std::string_view u) {
    return u.substr(0, 7) == "/inner/" || u.substr(0, 7) == "/logic/";
}
} // namespace uri

// Standard meta keys (docs/protocol.md §Meta).
namespace meta {
inline constexpr std::string_view version = "v";     // on /auth/server: protocol version
inline constexpr std::string_view device = "device"; // on /auth/server: device id
inline constexpr std::string_view acks = "acks";     // on /auth/server: "1" when the app acks
inline constexpr std::string_view resume = "resume"; // on /auth/server: highest seq held
inline constexpr std::string_view id = "id";         // on a push: message id
inline constexpr std::string_view time = "ts";       // on a push: accept time, Unix ms
inline constexpr std::string_view code = "code";     // on /error, /disconnect, /auth/failed
inline constexpr std::string_view reason = "reason"; // text accompanying code
inline constexpr std::string_view persist = "persist"; // on a push: "1" = stored, must be acked
inline constexpr std::string_view mode = "mode"; // on /heartbeat: "background" or "foreground" (§11.1)
inline constexpr std::string_view app = "app";   // on /auth/server: the app (tenant); absent = the default app
inline constexpr std::string_view from = "from"; // on a /message: the sender's uid, set by the node
inline constexpr std::string_view room = "room"; // on a room /message: the room
inline constexpr std::string_view conversation = "conversation"; // on a /message: opaque id
} // namespace meta

// The protocol version this SDK speaks (meta "v" on /auth/server).
inline constexpr std::string_view protocol_version = "1";

} // namespace plex
