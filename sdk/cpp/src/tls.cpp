#include "tls.hpp"

#include "plex/errc.hpp"

#ifdef PLEX_HAVE_TLS
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#endif

namespace plex::detail {

#ifdef PLEX_HAVE_TLS

class TlsContext {
public:
    SSL_CTX* ctx = nullptr;
    bool verify = true;
    ~TlsContext() {
        if (ctx) SSL_CTX_free(ctx);
    }
};

struct TlsFilter::State {
    SSL* ssl = nullptr;
    BIO* rbio = nullptr; // network -> SSL (owned by ssl)
    BIO* wbio = nullptr; // SSL -> network (owned by ssl)
    ~State() {
        if (ssl) SSL_free(ssl);
    }
};

namespace {
std::string take_openssl_errors() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out;
}
bool is_ip(const std::string& s) {
    unsigned char buf[16];
    return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}
} // namespace

bool tls_built_in() noexcept { return true; }

std::error_code make_tls_context(const TlsConfig& cfg, std::shared_ptr<TlsContext>& out) {
    auto c = std::make_shared<TlsContext>();
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (!c->ctx) {
        ERR_clear_error();
        return errc::tls_failed;
    }
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    c->verify = cfg.verify_peer;
    if (cfg.verify_peer) {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, nullptr);
        int ok = cfg.ca_file.empty() ? SSL_CTX_set_default_verify_paths(c->ctx)
                                     : SSL_CTX_load_verify_locations(c->ctx, cfg.ca_file.c_str(), nullptr);
        if (ok != 1) {
            ERR_clear_error();
            return errc::tls_failed;
        }
    } else {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, nullptr);
    }
    out = std::move(c);
    return {};
}

TlsFilter::TlsFilter(std::shared_ptr<TlsContext> ctx, const std::string& server_name, std::error_code& ec)
    : st_(std::make_unique<State>()), ctx_(std::move(ctx)) {
    ec.clear();
    if (!ctx_ || !ctx_->ctx) {
        ec = errc::tls_failed;
        return;
    }
    st_->ssl = SSL_new(ctx_->ctx);
    st_->rbio = BIO_new(BIO_s_mem());
    st_->wbio = BIO_new(BIO_s_mem());
    if (!st_->ssl || !st_->rbio || !st_->wbio) {
        if (st_->rbio) BIO_free(st_->rbio);
        if (st_->wbio) BIO_free(st_->wbio);
        st_->rbio = st_->wbio = nullptr;
        ERR_clear_error();
        ec = errc::tls_failed;
        return;
    }
    SSL_set_bio(st_->ssl, st_->rbio, st_->wbio);
    SSL_set_connect_state(st_->ssl);
    if (!server_name.empty()) {
        if (is_ip(server_name)) {
            if (ctx_->verify) {
                X509_VERIFY_PARAM* p = SSL_get0_param(st_->ssl);
                X509_VERIFY_PARAM_set1_ip_asc(p, server_name.c_str());
            }
        } else {
            SSL_set_tlsext_host_name(st_->ssl, server_name.c_str());
            if (ctx_->verify) SSL_set1_host(st_->ssl, server_name.c_str());
        }
    }
}

TlsFilter::~TlsFilter() = default;

std::error_code TlsFilter::handshake() {
    if (done_) return {};
    int r = SSL_do_handshake(st_->ssl);
    if (r == 1) {
        done_ = true;
        return {};
    }
    int e = SSL_get_error(st_->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return {};
    error_text_ = take_openssl_errors();
    long v = SSL_get_verify_result(st_->ssl);
    if (v != X509_V_OK) error_text_ = std::string("certificate: ") + X509_verify_cert_error_string(v);
    return errc::tls_failed;
}

std::error_code TlsFilter::feed(const char* p, std::size_t n) {
    while (n > 0) {
        int chunk = n > 1 << 30 ? 1 << 30 : static_cast<int>(n);
        int w = BIO_write(st_->rbio, p, chunk);
        if (w <= 0) {
            ERR_clear_error();
            return errc::tls_failed;
        }
        p += w;
        n -= std::size_t(w);
    }
    return {};
}

std::error_code TlsFilter::read(std::string& plain, bool& closed) {
    closed = false;
    char buf[16384];
    for (;;) {
        int r = SSL_read(st_->ssl, buf, sizeof buf);
        if (r > 0) {
            plain.append(buf, std::size_t(r));
            continue;
        }
        int e = SSL_get_error(st_->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return {};
        if (e == SSL_ERROR_ZERO_RETURN) {
            closed = true;
            return {};
        }
        error_text_ = take_openssl_errors();
        return errc::tls_failed;
    }
}

std::error_code TlsFilter::write(std::string_view plain) {
    while (!plain.empty()) {
        int chunk = plain.size() > 1 << 30 ? 1 << 30 : static_cast<int>(plain.size());
        int r = SSL_write(st_->ssl, plain.data(), chunk);
        if (r <= 0) {
            error_text_ = take_openssl_errors();
            return errc::tls_failed;
        }
        plain.remove_prefix(std::size_t(r));
    }
    return {};
}

void TlsFilter::take_output(std::string& out) {
    char buf[16384];
    while (BIO_ctrl_pending(st_->wbio) > 0) {
        int r = BIO_read(st_->wbio, buf, sizeof buf);
        if (r <= 0) break;
        out.append(buf, std::size_t(r));
    }
}

#else // !PLEX_HAVE_TLS

class TlsContext {};
struct TlsFilter::State {};

bool tls_built_in() noexcept { return false; }

std::error_code make_tls_context(const TlsConfig&, std::shared_ptr<TlsContext>&) {
    return errc::tls_unavailable;
}

TlsFilter::TlsFilter(std::shared_ptr<TlsContext>, const std::string&, std::error_code& ec) {
    ec = errc::tls_unavailable;
}
TlsFilter::~TlsFilter() = default;
std::error_code TlsFilter::handshake() { return errc::tls_unavailable; }
std::error_code TlsFilter::feed(const char*, std::size_t) { return errc::tls_unavailable; }
std::error_code TlsFilter::read(std::string&, bool& closed) {
    closed = false;
    return errc::tls_unavailable;
}
std::error_code TlsFilter::write(std::string_view) { return errc::tls_unavailable; }
void TlsFilter::take_output(std::string&) {}

#endif

} // namespace plex::detail
