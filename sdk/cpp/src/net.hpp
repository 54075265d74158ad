// Internal: POSIX socket helpers for the I/O thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <sys/socket.h>

namespace plex::detail {

// An owned file descriptor.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(o.release()) {}
    Fd& operator=(Fd&& o) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    int release() noexcept {
        int f = fd_;
        fd_ = -1;
        return f;
    }
    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

// A self-pipe that wakes poll() from another thread (send, close).
class WakePipe {
public:
    WakePipe();
    int fd() const noexcept { return rd_.get(); }
    bool ok() const noexcept { return static_cast<bool>(rd_); }
    void signal() noexcept; // async-signal-safe, never blocks
    void drain() noexcept;

private:
    Fd rd_, wr_;
};

struct HostPort {
    std::string host;
    std::string port;
};

// "host:port", "[v6]:port". errc::invalid_config when malformed.
std::error_code split_host_port(std::string_view addr, HostPort& out);

// A resolved address.
struct SockAddr {
    sockaddr_storage addr{};
    socklen_t len = 0;
};

// getaddrinfo (TCP). Blocking: the name service has no portable async API.
std::error_code resolve(const HostPort& hp, std::vector<SockAddr>& out);

// Starts a non-blocking connect. in_progress: wait for POLLOUT, then call
// connect_result().
std::error_code start_connect(const SockAddr& a, Fd& out, bool& in_progress);
// The outcome of a non-blocking connect (SO_ERROR).
std::error_code connect_result(int fd);

std::error_code last_error() noexcept; // errno as std::error_code

// Milliseconds until deadline for poll(), clamped to [0, INT_MAX]; -1 for none.
int poll_timeout(std::chrono::steady_clock::time_point now,
                 const std::chrono::steady_clock::time_point* deadline);

// send() that never raises SIGPIPE. Returns bytes sent, 0 on EAGAIN, -1 on
// error (ec set).
long send_nosignal(int fd, const char* p, std::size_t n, std::error_code& ec) noexcept;

} // namespace plex::detail
