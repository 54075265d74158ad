// Internal: one connection's socket I/O (plain TCP or TLS), non-blocking,
// driven by the client's I/O thread through poll().
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "net.hpp"
#include "tls.hpp"

namespace plex::detail {

class Connection {
public:
    // Starts connecting to "host:port" (each resolved address in turn). With
    // tls, the handshake follows the TCP connect; server_name defaults to host.
    std::error_code open(const std::string& addr, std::shared_ptr<TlsContext> tls,
                         const std::string& server_name);
    void close() noexcept;

    bool is_open() const noexcept { return static_cast<bool>(fd_); }
    bool ready() const noexcept { return ready_; }
    int fd() const noexcept { return fd_.get(); }
    // poll() events to wait for.
    short events() const noexcept;

    struct Result {
        bool became_ready = false; // TCP (and TLS) established just now
        bool eof = false;          // the peer closed
        std::error_code error;     // connect, I/O or TLS failure
    };
    // Handles poll() revents; appends received plaintext to in.
    Result on_events(short revents, std::string& in);
    // Queues bytes and writes what the socket takes now.
    std::error_code write(std::string_view bytes);
    std::size_t pending_output() const noexcept { return out_.size() - out_off_; }
    // TLS failure detail, for logs and tests.
    std::string tls_error() const { return tls_ ? tls_->error_text() : std::string(); }

private:
    std::error_code try_next_address();
    std::error_code flush();
    std::error_code tcp_established(Result& r);
    std::error_code read_some(Result& r, std::string& in);

    Fd fd_;
    bool connecting_ = false;
    bool ready_ = false;
    std::vector<SockAddr> addrs_;
    std::size_t next_addr_ = 0;
    std::error_code last_connect_error_;
    std::shared_ptr<TlsContext> tls_ctx_;
    std::string server_name_;
    std::unique_ptr<TlsFilter> tls_;
    std::string out_;          // bytes (ciphertext with TLS) waiting for the socket
    std::size_t out_off_ = 0;
};

} // namespace plex::detail
