// plex C++ SDK: frames (sans-IO).
//
// A frame is a 4-byte unsigned body length (big-endian by default,
// little-endian when configured) followed by the body.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace plex {

// Byte order of the 4-byte length header. Both peers must agree.
enum class Order { big, little };

inline constexpr std::size_t header_size = 4;
// Body limit a node applies before auth (pack.DefaultAuthLimit).
inline constexpr std::uint32_t default_auth_limit = 8u << 10;
// Default body limit after auth (pack.DefaultLimit, 1 MiB).
inline constexpr std::uint32_t default_limit = 1u << 20;

void put_header(Order o, unsigned char* p, std::uint32_t n) noexcept;
std::uint32_t read_header(Order o, const unsigned char* p) noexcept;

// FrameDecoder splits a byte stream into frame bodies without doing I/O: feed
// it whatever bytes arrived, split anywhere, and pull whole bodies out.
//
// The declared length of each frame is checked against the limit as soon as
// its 4 header bytes are known, before any byte of the body is buffered or
// any memory is reserved for it; the buffer then only grows with bytes that
// actually arrived.
//
// Whole frames inside one feed() are returned as views of the caller's bytes
// (no copy); only a frame split across feeds is copied. Once next() reports an
// error the decoder is broken and reports that error forever.
//
// Not thread-safe: one decoder belongs to one thread at a time.
class FrameDecoder {
public:
    // limit 0 means default_limit.
    explicit FrameDecoder(Order order = Order::big, std::uint32_t limit = default_limit) noexcept;

    // Changes the limit for frames whose header has not been read yet.
    void set_limit(std::uint32_t limit) noexcept { limit_ = limit == 0 ? default_limit : limit; }
    std::uint32_t limit() const noexcept { return limit_; }
    Order order() const noexcept { return order_; }

    // Hands the decoder the next bytes of the stream. The decoder keeps a view
    // of them (no copy) until next() has returned false, so they must stay
    // valid and unchanged until then.
    void feed(const void* data, std::size_t n);
    void feed(std::string_view s) { feed(s.data(), s.size()); }

    // Sets body to the next whole frame body and returns true; returns false
    // when more input is needed or on error (then ec is set). body is valid
    // until the next call to next() or feed().
    bool next(std::string_view& body, std::error_code& ec);

    // errc::truncated when the stream ended inside a frame, or the sticky error.
    std::error_code finish() const noexcept;
    // Bytes held for an incomplete frame.
    std::size_t buffered() const noexcept;
    std::error_code error() const noexcept { return err_; }

private:
    bool fail(std::error_code e, std::error_code& ec);
    void keep();
    void take(std::size_t n);
    void release() noexcept;

    Order order_;
    std::uint32_t limit_;
    std::string_view in_;      // unread part of the caller's last feed
    std::string buf_;          // copied bytes, logically before in_
    std::size_t off_ = 0;      // start of the unread part of buf_ (a frame boundary)
    bool release_ = false;     // buf_ is drained; freed at the next call
    std::error_code err_;
};

} // namespace plex
