// plex C++ SDK: client configuration.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "plex/codec.hpp"
#include "plex/frame.hpp"

namespace plex {

// TLS settings; used only when enabled (and the SDK was built with PLEX_TLS=ON,
// else connect() fails with errc::tls_unavailable).
struct TlsConfig {
    // Dial with TLS.
    bool enabled = false;
    // Check the node's certificate chain and host name. Off only for tests.
    bool verify_peer = true;
    // PEM file of trusted CAs; empty = the system's default trust store.
    std::string ca_file;
    // Name for SNI and host-name verification; empty = the dialled host.
    std::string server_name;
};

// Config describes one client. Every field has a working default except the
// addresses: set addresses, discovery_url, or both.
struct Config {
    // Nodes to dial, "host:port" ("[v6]:port" for IPv6), tried round-robin.
    // Used directly when discovery_url is empty, and as the fallback when
    // discovery fails.
    std::vector<std::string> addresses;
    // Optional: "http://host:port/plex/v1/host" (a URL without a path gets
    // /plex/v1/host). Asked before every connection attempt; its answer
    // {"host":"ip:port"} is dialled. Plain http only.
    std::string discovery_url;
    // Sent as the body of /auth/server.
    std::string token;
    // Stable id of this device/installation (meta "device"); empty = not sent.
    std::string device_id;
    // The app (tenant) this client belongs to (meta "app" on /auth/server,
    // docs/apps.md); empty = the node's default app.
    std::string app;
    // Frame header byte order; must match the node's.
    Order order = Order::big;
    // Codec of every frame this client sends and receives.
    Codec codec = Codec::json;
    // How often to send /heartbeat when idle, until /auth/success announces
    // the node's interval (heartbeat_ms), which then wins.
    std::chrono::milliseconds heartbeat{30000};
    // Nothing received for this long = the connection is dead (reconnect with
    // errc::heartbeat_timeout). Replaced by the node's timeout_ms.
    std::chrono::milliseconds heartbeat_timeout{75000};
    // Reconnect delay (docs/protocol.md §13.6, the same in every plex
    // client): retry n waits uniformly in [min(100 ms, backoff_min),
    // min(backoff_max, backoff_min·2^n)]; jitter spreads a fleet's
    // reconnects after a node restart, the floor keeps a client from
    // spinning. A connection that delivered a message or stayed online
    // 10 s resets n.
    std::chrono::milliseconds backoff_min{500};
    std::chrono::milliseconds backoff_max{30000};
    // Limit for discovery + TCP connect + TLS handshake, and separately for
    // the node's answer to /auth/server.
    std::chrono::milliseconds connect_timeout{10000};
    // How long a request (Client::message, message_room) waits for its
    // answer, counted from the call, waiting for online included
    // (docs/protocol.md §13.6). One not written by then ends with
    // errc::not_executed (safe to send again), one written and unanswered
    // with errc::outcome_unknown. 10 s, as the browser client's
    // requestTimeoutMs.
    std::chrono::milliseconds request_timeout{10000};
    // Requests made while connecting or reconnecting wait for online, at
    // most this many at a time (with those kept for resending after a
    // draining node's /disconnect); beyond, a request fails at once with
    // errc::queue_full. It bounds the memory a long outage can take. 0: a
    // request made while not online fails at once.
    std::size_t max_waiting_requests = 1024;
    // Largest frame body accepted from the node and sent to it (1 MiB, the
    // node's default). A larger outgoing message is refused by send(); the
    // node's own max_frame from /auth/success lowers the send limit.
    std::uint32_t max_frame = default_limit;
    // Ack persistent pushes (meta acks=1 on auth, cumulative /ack, resume on
    // reconnect). Off: the node delivers each persistent push once, unacked.
    bool acks = true;
    // The highest persistent seq the app already holds (e.g. saved from
    // Client::last_seq() before it last exited); sent as resume on auth.
    std::int64_t resume_from = 0;
    // Bound of bytes queued by send() and not yet written to the socket.
    std::size_t max_queued_bytes = 8u << 20;
    TlsConfig tls;
};

} // namespace plex
