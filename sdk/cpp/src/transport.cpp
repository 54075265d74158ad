#include "transport.hpp"

#include <cerrno>

#include <poll.h>
#include <unistd.h>

#include "plex/errc.hpp"

namespace plex::detail {

std::error_code Connection::open(const std::string& addr, std::shared_ptr<TlsContext> tls,
                                 const std::string& server_name) {
    close();
    HostPort hp;
    if (auto ec = split_host_port(addr, hp)) return ec;
    if (auto ec = resolve(hp, addrs_)) return ec;
    next_addr_ = 0;
    tls_ctx_ = std::move(tls);
    server_name_ = server_name.empty() ? hp.host : server_name;
    return try_next_address();
}

std::error_code Connection::try_next_address() {
    fd_.reset();
    connecting_ = false;
    std::error_code ec = last_connect_error_ ? last_connect_error_
                                             : std::make_error_code(std::errc::host_unreachable);
    while (next_addr_ < addrs_.size()) {
        bool in_progress = false;
        ec = start_connect(addrs_[next_addr_++], fd_, in_progress);
        if (ec) {
            last_connect_error_ = ec;
            continue;
        }
        connecting_ = true; // established or not, completion is seen via POLLOUT
        return {};
    }
    return ec;
}

void Connection::close() noexcept {
    fd_.reset();
    connecting_ = false;
    ready_ = false;
    tls_.reset();
    out_.clear();
    out_off_ = 0;
    addrs_.clear();
    last_connect_error_.clear();
}

short Connection::events() const noexcept {
    if (!fd_) return 0;
    if (connecting_) return POLLOUT;
    short ev = POLLIN;
    if (pending_output() > 0) ev |= POLLOUT;
    return ev;
}

std::error_code Connection::tcp_established(Result& r) {
    connecting_ = false;
    if (!tls_ctx_) {
        ready_ = true;
        r.became_ready = true;
        return {};
    }
    std::error_code ec;
    tls_ = std::make_unique<TlsFilter>(tls_ctx_, server_name_, ec);
    if (ec) return ec;
    if ((ec = tls_->handshake())) return ec;
    tls_->take_output(out_);
    return flush();
}

Connection::Result Connection::on_events(short revents, std::string& in) {
    Result r;
    if (!fd_) return r;
    if (connecting_) {
        if (!(revents & (POLLOUT | POLLERR | POLLHUP))) return r;
        if (auto ec = connect_result(fd_.get())) {
            last_connect_error_ = ec;
            // Try the host's next address (e.g. IPv4 after IPv6).
            if (auto next = try_next_address()) r.error = next;
            return r;
        }
        r.error = tcp_established(r);
        return r;
    }
    if (revents & (POLLIN | POLLERR | POLLHUP)) {
        if ((r.error = read_some(r, in)) || r.eof) return r;
    }
    if (revents & POLLOUT) r.error = flush();
    return r;
}

std::error_code Connection::read_some(Result& r, std::string& in) {
    char buf[65536];
    // A bounded number of reads per wakeup keeps timers and sends timely
    // under a flood; poll() reports the rest at once.
    for (int i = 0; i < 4; ++i) {
        ssize_t n = ::read(fd_.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            return last_error();
        }
        if (n == 0) {
            r.eof = true;
            break;
        }
        if (!tls_) {
            in.append(buf, std::size_t(n));
            if (std::size_t(n) < sizeof buf) break;
            continue;
        }
        if (auto ec = tls_->feed(buf, std::size_t(n))) return ec;
        if (!tls_->done()) {
            if (auto ec = tls_->handshake()) return ec;
            if (tls_->done()) {
                ready_ = true;
                r.became_ready = true;
            }
        }
        if (tls_->done()) {
            bool closed = false;
            if (auto ec = tls_->read(in, closed)) return ec;
            if (closed) r.eof = true;
        }
        tls_->take_output(out_); // handshake messages, key updates
        if (auto ec = flush()) return ec;
        if (r.eof || std::size_t(n) < sizeof buf) break;
    }
    return {};
}

std::error_code Connection::write(std::string_view bytes) {
    if (!fd_ || !ready_) return errc::not_connected;
    if (tls_) {
        if (auto ec = tls_->write(bytes)) return ec;
        tls_->take_output(out_);
    } else {
        out_.append(bytes);
    }
    return flush();
}

std::error_code Connection::flush() {
    while (out_off_ < out_.size()) {
        std::error_code ec;
        long n = send_nosignal(fd_.get(), out_.data() + out_off_, out_.size() - out_off_, ec);
        if (n < 0) return ec;
        if (n == 0) break; // the socket is full: POLLOUT says when to go on
        out_off_ += std::size_t(n);
    }
    if (out_off_ == out_.size()) {
        out_.clear();
        out_off_ = 0;
        if (out_.capacity() > (1u << 20)) std::string().swap(out_); // after a burst
    } else if (out_off_ > (1u << 20) && out_off_ > out_.size() / 2) {
        out_.erase(0, out_off_);
        out_off_ = 0;
    }
    return {};
}

} // namespace plex::detail
