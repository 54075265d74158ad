// Internal: TLS as a sans-IO filter over OpenSSL memory BIOs (PLEX_TLS=ON).
// The transport moves ciphertext between the socket and the filter with its
// own non-blocking I/O (so SIGPIPE is never raised inside OpenSSL); tests
// pump bytes between a client filter and an in-memory server.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "plex/config.hpp"

namespace plex::detail {

bool tls_built_in() noexcept;

class TlsContext; // an SSL_CTX configured from TlsConfig

// Builds the client context: trust store (ca_file or the system's), TLS 1.2+,
// peer verification unless verify_peer is false. errc::tls_failed when the
// CA file cannot be loaded; errc::tls_unavailable without PLEX_TLS.
std::error_code make_tls_context(const TlsConfig& cfg, std::shared_ptr<TlsContext>& out);

class TlsFilter {
public:
    // server_name: SNI and the name (or IP) the certificate must match.
    TlsFilter(std::shared_ptr<TlsContext> ctx, const std::string& server_name, std::error_code& ec);
    ~TlsFilter();
    TlsFilter(const TlsFilter&) = delete;
    TlsFilter& operator=(const TlsFilter&) = delete;

    // Advances the handshake; {} while it is in progress or done.
    std::error_code handshake();
    bool done() const noexcept { return done_; }
    // Ciphertext from the network.
    std::error_code feed(const char* p, std::size_t n);
    // Appends decrypted bytes; closed = the peer sent close_notify.
    std::error_code read(std::string& plain, bool& closed);
    // Encrypts plain (after the handshake).
    std::error_code write(std::string_view plain);
    // Appends ciphertext to send.
    void take_output(std::string& out);
    // The verification or handshake failure text, if any.
    const std::string& error_text() const noexcept { return error_text_; }

private:
    struct State;
    std::unique_ptr<State> st_;
    std::shared_ptr<TlsContext> ctx_;
    bool done_ = false;
    std::string error_text_;
};

} // namespace plex::detail
