#include "plex/frame.hpp"

#include "plex/errc.hpp"

namespace plex {

void put_header(Order o, unsigned char* p, std::uint32_t n) noexcept {
    if (o == Order::little) {
        p[0] = static_cast<unsigned char>(n);
        p[1] = static_cast<unsigned char>(n >> 8);
        p[2] = static_cast<unsigned char>(n >> 16);
        p[3] = static_cast<unsigned char>(n >> 24);
    } else {
        p[0] = static_cast<unsigned char>(n >> 24);
        p[1] = static_cast<unsigned char>(n >> 16);
        p[2] = static_cast<unsigned char>(n >> 8);
        p[3] = static_cast<unsigned char>(n);
    }
}

std::uint32_t read_header(Order o, const unsigned char* p) noexcept {
    if (o == Order::little) {
        return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 |
               std::uint32_t(p[3]) << 24;
    }
    return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 |
           std::uint32_t(p[3]);
}

namespace {
const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}
// The largest split-frame buffer kept for reuse; larger ones are freed so an
// idle connection holds nothing big (same number as pack's maxKeptBuffer).
constexpr std::size_t max_kept_buffer = 512;
} // namespace

FrameDecoder::FrameDecoder(Order order, std::uint32_t limit) noexcept : order_(order) {
    set_limit(limit);
}

void FrameDecoder::feed(const void* data, std::size_t n) {
    if (err_) return;
    release();
    if (!in_.empty()) {
        // Fed before the previous input was drained: keep the rest.
        if (off_ > 0) {
            buf_.erase(0, off_);
            off_ = 0;
        }
        buf_.append(in_);
    }
    in_ = std::string_view(static_cast<const char*>(data), n);
}

bool FrameDecoder::next(std::string_view& body, std::error_code& ec) {
    ec.clear();
    if (err_) {
        ec = err_;
        return false;
    }
    release();
    if (buf_.size() == off_) {
        // Fast path: whole frames straight from the caller's bytes.
        if (in_.size() < header_size) {
            keep();
            return false;
        }
        std::uint32_t n = read_header(order_, bytes(in_));
        if (n > limit_) return fail(errc::frame_too_large, ec);
        // Compared with the bytes there, never added to an offset first:
        // header_size + n wraps a 32-bit size_t when n is near 2^32.
        if (in_.size() - header_size < n) {
            keep();
            return false;
        }
        body = in_.substr(header_size, n);
        in_.remove_prefix(header_size + std::size_t(n));
        return true;
    }
    // Slow path: complete the frame that was split across feeds. buf_ holds
    // more than one frame only when feed() came before the input was drained.
    if (buf_.size() - off_ < header_size) {
        take(header_size - (buf_.size() - off_));
        if (buf_.size() - off_ < header_size) return false;
    }
    std::uint32_t n = read_header(order_, bytes(std::string_view(buf_).substr(off_)));
    if (n > limit_) return fail(errc::frame_too_large, ec);
    // Only bytes that arrived are copied; nothing is reserved from the header.
    // What is missing is computed, not an end offset: off_ + header_size + n
    // wraps a 32-bit size_t (armv7 devices) when n is near 2^32.
    const std::size_t have = buf_.size() - off_ - header_size;
    if (have < n) {
        take(std::size_t(n) - have);
        if (buf_.size() - off_ - header_size < n) return false;
    }
    body = std::string_view(buf_).substr(off_ + header_size, n);
    off_ += header_size + std::size_t(n); // <= buf_.size(): no wrap
    release_ = off_ == buf_.size(); // freed at the next call, when body is dead
    return true;
}

std::size_t FrameDecoder::buffered() const noexcept { return buf_.size() - off_ + in_.size(); }

std::error_code FrameDecoder::finish() const noexcept {
    if (err_) return err_;
    if (buffered() > 0) return errc::truncated;
    return {};
}

bool FrameDecoder::fail(std::error_code e, std::error_code& ec) {
    err_ = e;
    ec = e;
    in_ = {};
    std::string().swap(buf_);
    off_ = 0;
    release_ = false;
    return false;
}

void FrameDecoder::take(std::size_t n) {
    if (n > in_.size()) n = in_.size();
    buf_.append(in_.substr(0, n));
    in_.remove_prefix(n);
}

void FrameDecoder::keep() {
    if (!in_.empty()) {
        buf_.append(in_);
        in_ = {};
    }
}

void FrameDecoder::release() noexcept {
    if (!release_) return;
    release_ = false;
    off_ = 0;
    if (buf_.capacity() > max_kept_buffer) {
        std::string().swap(buf_);
    } else {
        buf_.clear();
    }
}

} // namespace plex
