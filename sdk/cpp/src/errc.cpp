#include "plex/errc.hpp"

namespace plex {
namespace {

const char* known_text(int c) noexcept {
    switch (static_cast<errc>(c)) {
    case errc::truncated: return "truncated frame";
    case errc::bad_json: return "malformed JSON message";
    case errc::wrong_type: return "wrong field type";
    case errc::invalid_utf8: return "invalid UTF-8";
    case errc::bad_protobuf: return "malformed protobuf message";
    case errc::empty_body: return "empty frame body";
    case errc::not_connected: return "not connected";
    case errc::closed: return "client closed";
    case errc::connect_timeout: return "connect timeout";
    case errc::connection_lost: return "connection lost";
    case errc::discovery_failed: return "discovery failed";
    case errc::invalid_config: return "invalid configuration";
    case errc::reserved_uri: return "reserved URI";
    case errc::queue_full: return "send queue full";
    case errc::protocol_error: return "protocol error";
    case errc::tls_failed: return "TLS failed";
    case errc::tls_unavailable: return "TLS not built in (PLEX_TLS=OFF)";
    case errc::protobuf_unavailable: return "protobuf not built in (PLEX_PROTOBUF=OFF)";
    case errc::not_executed: return "not executed";
    case errc::shutdown: return "server shutting down";
    case errc::heartbeat_timeout: return "heartbeat timeout";
    case errc::slow_consumer: return "slow consumer";
    case errc::auth_timeout: return "auth timeout";
    case errc::too_many_connections: return "too many connections";
    case errc::internal: return "internal error";
    case errc::frame_too_large: return "frame too large";
    case errc::bad_frame: return "bad frame";
    case errc::outcome_unknown: return "outcome unknown";
    case errc::auth_failed: return "auth failed";
    case errc::replaced: return "replaced by a newer login";
    case errc::forbidden: return "forbidden";
    case errc::bad_request: return "bad request";
    case errc::unsupported_version: return "unsupported protocol version";
    case errc::not_found: return "not found";
    case errc::rate_limited: return "rate limited";
    case errc::refused: return "connection refused";
    }
    return nullptr;
}

class plex_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "plex"; }
    std::string message(int c) const override { return code_text(c); }
};

} // namespace

const std::error_category& category() noexcept {
    static const plex_category cat;
    return cat;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

std::error_code code_error(int wire_code) noexcept { return {wire_code, category()}; }

bool is_terminal(std::error_code ec) noexcept {
    return ec.category() == category() && ec.value() >= 4000;
}

std::string code_text(int wire_code) {
    if (const char* t = known_text(wire_code)) return t;
    return "code " + std::to_string(wire_code);
}

} // namespace plex
