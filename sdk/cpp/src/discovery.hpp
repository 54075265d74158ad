// Internal: node discovery over plain HTTP/1.1 (GET /plex/v1/host).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>

namespace plex::detail {

struct HttpUrl {
    std::string host;
    std::string port = "80";
    std::string path;
};

// "http://host[:port][/path]"; an empty path becomes /plex/v1/host.
// errc::invalid_config for anything else (https included: plain http only).
std::error_code parse_http_url(std::string_view url, HttpUrl& out);

// Parses an HTTP/1.x response read so far. complete is false while more
// bytes are needed; eof says the peer closed (ends a body without a length).
// Handles Content-Length, chunked and close-delimited bodies.
std::error_code parse_http_response(std::string_view raw, bool eof, bool& complete, int& status,
                                    std::string& body);

// {"host":"ip:port"} -> "ip:port" (checked to be host:port).
std::error_code parse_host_json(std::string_view body, std::string& host);

// Largest response read; a discovery answer is a few dozen bytes.
inline constexpr std::size_t max_http_response = 64 * 1024;

// GET url and return the host it names. Gives up at deadline
// (errc::discovery_failed). When wake_fd (may be -1) is readable, woken() is
// called; it drains the wakeup and returns true to abort (errc::closed).
std::error_code discover(const std::string& url, std::chrono::steady_clock::time_point deadline,
                         int wake_fd, const std::function<bool()>& woken, std::string& host);

} // namespace plex::detail
