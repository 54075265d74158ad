#include "net.hpp"

#include <cerrno>
#include <climits>
#include <cstring>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/types.h>
#include <unistd.h>

#include "plex/errc.hpp"

namespace plex::detail {

Fd& Fd::operator=(Fd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
}

void Fd::reset(int fd) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

std::error_code last_error() noexcept { return {errno, std::system_category()}; }

namespace {
bool set_nonblock_cloexec(int fd) {
    int fl = ::fcntl(fd, F_GETFL, 0);
    if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return false;
    int fdfl = ::fcntl(fd, F_GETFD, 0);
    return fdfl >= 0 && ::fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) >= 0;
}
} // namespace

WakePipe::WakePipe() {
    int p[2];
    if (::pipe(p) != 0) return;
    rd_.reset(p[0]);
    wr_.reset(p[1]);
    if (!set_nonblock_cloexec(p[0]) || !set_nonblock_cloexec(p[1])) {
        rd_.reset();
        wr_.reset();
    }
}

void WakePipe::signal() noexcept {
    char c = 1;
    // A full pipe already guarantees a wakeup: EAGAIN is fine.
    [[maybe_unused]] auto n = ::write(wr_.get(), &c, 1);
}

void WakePipe::drain() noexcept {
    char buf[64];
    while (::read(rd_.get(), buf, sizeof buf) > 0) {
    }
}

std::error_code split_host_port(std::string_view addr, HostPort& out) {
    std::size_t colon;
    if (!addr.empty() && addr[0] == '[') {
        auto close = addr.find(']');
        if (close == std::string_view::npos || close + 1 >= addr.size() || addr[close + 1] != ':')
            return errc::invalid_config;
        out.host = std::string(addr.substr(1, close - 1));
        colon = close + 1;
    } else {
        colon = addr.rfind(':');
        if (colon == std::string_view::npos || addr.find(':') != colon) return errc::invalid_config;
        out.host = std::string(addr.substr(0, colon));
    }
    out.port = std::string(addr.substr(colon + 1));
    if (out.host.empty() || out.port.empty() || out.port.size() > 5) return errc::invalid_config;
    for (char c : out.port)
        if (c < '0' || c > '9') return errc::invalid_config;
    if (std::stoul(out.port) > 65535) return errc::invalid_config;
    return {};
}

std::error_code resolve(const HostPort& hp, std::vector<SockAddr>& out) {
    out.clear();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(hp.host.c_str(), hp.port.c_str(), &hints, &res);
    if (rc != 0) {
        if (rc == EAI_SYSTEM) return last_error();
        return std::make_error_code(std::errc::host_unreachable);
    }
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
        SockAddr a;
        std::memcpy(&a.addr, ai->ai_addr, ai->ai_addrlen);
        a.len = ai->ai_addrlen;
        out.push_back(a);
    }
    ::freeaddrinfo(res);
    if (out.empty()) return std::make_error_code(std::errc::host_unreachable);
    return {};
}

std::error_code start_connect(const SockAddr& a, Fd& out, bool& in_progress) {
    in_progress = false;
    Fd fd(::socket(a.addr.ss_family, SOCK_STREAM, 0));
    if (!fd) return last_error();
    if (!set_nonblock_cloexec(fd.get())) return last_error();
    int one = 1;
    // Frames are small and latency matters more than packet count.
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef SO_NOSIGPIPE
    ::setsockopt(fd.get(), SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&a.addr), a.len) != 0) {
        if (errno != EINPROGRESS && errno != EINTR) return last_error();
        in_progress = true;
    }
    out = std::move(fd);
    return {};
}

std::error_code connect_result(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return last_error();
    if (err != 0) return {err, std::system_category()};
    return {};
}

int poll_timeout(std::chrono::steady_clock::time_point now,
                 const std::chrono::steady_clock::time_point* deadline) {
    if (!deadline) return -1;
    if (*deadline <= now) return 0;
    // Round up so that poll never wakes just before the deadline and spins.
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(*deadline - now).count();
    auto ms = (us + 999) / 1000;
    return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

long send_nosignal(int fd, const char* p, std::size_t n, std::error_code& ec) noexcept {
#ifdef MSG_NOSIGNAL
    constexpr int flags = MSG_NOSIGNAL;
#else
    constexpr int flags = 0; // SO_NOSIGPIPE was set on the socket
#endif
    for (;;) {
        ssize_t r = ::send(fd, p, n, flags);
        if (r >= 0) return static_cast<long>(r);
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        ec = last_error();
        return -1;
    }
}

} // namespace plex::detail
