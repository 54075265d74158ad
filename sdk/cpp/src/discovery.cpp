#include "discovery.hpp"

#include <cctype>

#include <poll.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "net.hpp"
#include "plex/errc.hpp"

namespace plex::detail {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// Parses a size the peer sent (a status code, Content-Length, a chunk size).
// Anything above max_http_response is refused here: nothing that large can
// be read anyway, and the callers then add sizes without any sum wrapping
// (12 hex digits overflowed a 32-bit size_t).
bool parse_size(std::string_view s, int base, std::size_t& out) {
    if (s.empty() || s.size() > 12) return false;
    out = 0;
    for (char c : s) {
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (base == 16 && c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return false;
        out = out * std::size_t(base) + std::size_t(d);
        if (out > max_http_response) return false;
    }
    return true;
}

// Decodes a chunked body; complete once the last chunk and trailers are in.
std::error_code dechunk(std::string_view in, bool& complete, std::string& body) {
    complete = false;
    body.clear();
    std::size_t i = 0;
    for (;;) {
        auto eol = in.find("\r\n", i);
        if (eol == std::string_view::npos) return {};
        auto line = in.substr(i, eol - i);
        line = line.substr(0, line.find(';')); // chunk extensions
        std::size_t n;
        if (!parse_size(trim(line), 16, n)) return errc::discovery_failed;
        i = eol + 2;
        if (n == 0) {
            // Trailers end with an empty line.
            for (;;) {
                auto e = in.find("\r\n", i);
                if (e == std::string_view::npos) return {};
                if (e == i) {
                    complete = true;
                    return {};
                }
                i = e + 2;
            }
        }
        if (in.size() - i < n || in.size() - i - n < 2) return {}; // i <= in.size(): no wrap
        body.append(in.substr(i, n));
        if (in.substr(i + n, 2) != "\r\n") return errc::discovery_failed;
        i += n + 2;
    }
}

} // namespace

std::error_code parse_http_url(std::string_view url, HttpUrl& out) {
    constexpr std::string_view scheme = "http://";
    if (url.size() <= scheme.size() || !iequals(url.substr(0, scheme.size()), scheme))
        return errc::invalid_config;
    url.remove_prefix(scheme.size());
    auto slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    out.path = slash == std::string_view::npos ? "" : std::string(url.substr(slash));
    if (out.path.empty() || out.path == "/") out.path = "/plex/v1/host";
    if (authority.empty() || authority.find('@') != std::string_view::npos) return errc::invalid_config;
    HostPort hp;
    bool has_port = authority.back() != ']' && authority.find(':') != std::string_view::npos &&
                    (authority.front() != '[' || authority.find("]:") != std::string_view::npos);
    if (has_port) {
        if (auto ec = split_host_port(authority, hp)) return ec;
        out.host = hp.host;
        out.port = hp.port;
    } else {
        if (authority.front() == '[') authority = authority.substr(1, authority.size() - 2);
        out.host = std::string(authority);
        out.port = "80";
    }
    if (out.host.empty()) return errc::invalid_config;
    for (char c : out.path)
        if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return errc::invalid_config;
    return {};
}

std::error_code parse_http_response(std::string_view raw, bool eof, bool& complete, int& status,
                                    std::string& body) {
    complete = false;
    auto end = raw.find("\r\n\r\n");
    if (end == std::string_view::npos) return eof ? make_error_code(errc::discovery_failed) : std::error_code();
    std::string_view head = raw.substr(0, end);
    std::string_view rest = raw.substr(end + 4);
    auto eol = head.find("\r\n");
    std::string_view status_line = head.substr(0, eol);
    // "HTTP/1.1 200 OK"
    if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ')
        return errc::discovery_failed;
    std::size_t code;
    if (!parse_size(status_line.substr(9, 3), 10, code)) return errc::discovery_failed;
    status = static_cast<int>(code);

    bool chunked = false;
    bool has_length = false;
    std::size_t length = 0;
    std::size_t i = eol == std::string_view::npos ? head.size() : eol + 2;
    while (i < head.size()) {
        auto e = head.find("\r\n", i);
        if (e == std::string_view::npos) e = head.size();
        auto line = head.substr(i, e - i);
        i = e + 2;
        auto colon = line.find(':');
        if (colon == std::string_view::npos) return errc::discovery_failed;
        auto name = trim(line.substr(0, colon));
        auto value = trim(line.substr(colon + 1));
        if (iequals(name, "content-length")) {
            if (!parse_size(value, 10, length)) return errc::discovery_failed;
            has_length = true;
        } else if (iequals(name, "transfer-encoding")) {
            chunked = iequals(value, "chunked");
        }
    }
    if (chunked) {
        if (auto ec = dechunk(rest, complete, body)) return ec;
        if (!complete && eof) return errc::discovery_failed;
        return {};
    }
    if (has_length) {
        if (rest.size() < length) {
            if (eof) return errc::discovery_failed;
            return {};
        }
        body.assign(rest.substr(0, length));
        complete = true;
        return {};
    }
    if (status == 204 || status == 304 || (status >= 100 && status < 200)) {
        body.clear();
        complete = true;
        return {};
    }
    if (eof) {
        body.assign(rest);
        complete = true;
    }
    return {};
}

std::error_code parse_host_json(std::string_view body, std::string& host) {
    auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return errc::discovery_failed;
    auto it = j.find("host");
    if (it == j.end() || !it->is_string()) return errc::discovery_failed;
    std::string h = it->get<std::string>();
    HostPort hp;
    if (split_host_port(h, hp)) return errc::discovery_failed;
    host = std::move(h);
    return {};
}

std::error_code discover(const std::string& url, std::chrono::steady_clock::time_point deadline,
                         int wake_fd, const std::function<bool()>& woken, std::string& host) {
    HttpUrl u;
    if (auto ec = parse_http_url(url, u)) return ec;
    std::vector<SockAddr> addrs;
    if (resolve({u.host, u.port}, addrs)) return errc::discovery_failed;

    const bool v6 = u.host.find(':') != std::string::npos;
    std::string request = "GET " + u.path + " HTTP/1.1\r\nHost: " + (v6 ? "[" + u.host + "]" : u.host) +
                          (u.port == "80" ? "" : ":" + u.port) +
                          "\r\nUser-Agent: plex-cpp\r\nAccept: application/json\r\nConnection: close\r\n\r\n";

    // Waits for ev on fd; false on timeout, error or stop.
    auto wait = [&](int fd, short ev, std::error_code& ec) {
        for (;;) {
            auto now = std::chrono::steady_clock::now();
            if (now >= deadline) {
                ec = errc::discovery_failed;
                return false;
            }
            pollfd p[2] = {{fd, ev, 0}, {wake_fd, POLLIN, 0}};
            int n = ::poll(p, wake_fd >= 0 ? 2 : 1, poll_timeout(now, &deadline));
            if (n < 0 && errno != EINTR) {
                ec = last_error();
                return false;
            }
            if (n <= 0) continue;
            if (wake_fd >= 0 && (p[1].revents & POLLIN) && woken()) {
                ec = errc::closed;
                return false;
            }
            if (p[0].revents) return true;
        }
    };

    std::error_code ec = errc::discovery_failed;
    for (const auto& a : addrs) {
        Fd fd;
        bool in_progress;
        if (start_connect(a, fd, in_progress)) continue;
        if (in_progress) {
            if (!wait(fd.get(), POLLOUT, ec)) {
                if (ec == errc::closed) return ec;
                continue;
            }
            if (connect_result(fd.get())) continue;
        }
        // Send the request.
        std::size_t off = 0;
        bool failed = false;
        while (off < request.size()) {
            std::error_code sec;
            long n = send_nosignal(fd.get(), request.data() + off, request.size() - off, sec);
            if (n < 0) {
                failed = true;
                break;
            }
            off += std::size_t(n);
            if (off < request.size() && !wait(fd.get(), POLLOUT, ec)) {
                if (ec == errc::closed) return ec;
                failed = true;
                break;
            }
        }
        if (failed) continue;
        // Read the response.
        std::string raw;
        char buf[4096];
        for (;;) {
            if (!wait(fd.get(), POLLIN, ec)) {
                if (ec == errc::closed) return ec;
                break;
            }
            ssize_t n = ::read(fd.get(), buf, sizeof buf);
            if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
            bool eof = n <= 0;
            if (n > 0) raw.append(buf, std::size_t(n));
            if (raw.size() > max_http_response) {
                ec = errc::discovery_failed;
                break;
            }
            bool complete;
            int status = 0;
            std::string body;
            if (parse_http_response(raw, eof, complete, status, body)) {
                ec = errc::discovery_failed;
                break;
            }
            if (complete) {
                if (status != 200) return errc::discovery_failed;
                return parse_host_json(body, host);
            }
            if (eof) {
                ec = errc::discovery_failed;
                break;
            }
        }
    }
    return ec ? ec : make_error_code(errc::discovery_failed);
}

} // namespace plex::detail
