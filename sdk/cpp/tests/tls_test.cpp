// TLS: configuration checks in every build; with PLEX_TLS=ON also a full
// handshake and data exchange between the client filter and an in-memory
// OpenSSL server, and the failures a client must detect.
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "plex/client.hpp"
#include "plex/errc.hpp"
#include "tls.hpp"

#ifdef PLEX_TEST_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls_cert.hpp"
#endif

namespace plex {
namespace {

TEST(TlsConfig, DefaultsAreSafe) {
    TlsConfig t;
    EXPECT_FALSE(t.enabled);
    EXPECT_TRUE(t.verify_peer) << "verification is on unless turned off";
    EXPECT_TRUE(t.ca_file.empty());
    EXPECT_TRUE(t.server_name.empty());
    EXPECT_FALSE(Config{}.tls.enabled);
}

#ifndef PLEX_TEST_TLS
TEST(TlsConfig, UnavailableWithoutTheOption) {
    EXPECT_FALSE(tls_available());
    Config cfg;
    cfg.addresses = {"127.0.0.1:1"};
    cfg.tls.enabled = true;
    Client c(cfg);
    EXPECT_EQ(c.connect(), errc::tls_unavailable);
    std::shared_ptr<detail::TlsContext> ctx;
    EXPECT_EQ(detail::make_tls_context(cfg.tls, ctx), errc::tls_unavailable);
}
#else

TEST(TlsConfig, Available) { EXPECT_TRUE(tls_available()); }

TEST(TlsConfig, MissingCaFileIsAnError) {
    TlsConfig t;
    t.enabled = true;
    t.ca_file = "/nonexistent/ca.pem";
    std::shared_ptr<detail::TlsContext> ctx;
    EXPECT_EQ(detail::make_tls_context(t, ctx), errc::tls_failed);
    Config cfg;
    cfg.addresses = {"127.0.0.1:1"};
    cfg.tls = t;
    Client c(cfg);
    EXPECT_EQ(c.connect(), errc::tls_failed) << "reported by connect(), not later";
}

TEST(TlsConfig, SystemTrustStoreLoads) {
    TlsConfig t;
    t.enabled = true;
    std::shared_ptr<detail::TlsContext> ctx;
    EXPECT_FALSE(detail::make_tls_context(t, ctx));
    EXPECT_TRUE(ctx);
}

// An in-memory TLS server speaking to a TlsFilter.
struct MemServer {
    SSL_CTX* ctx = nullptr;
    SSL* ssl = nullptr;
    BIO* rbio = nullptr;
    BIO* wbio = nullptr;
    explicit MemServer(test::SelfSigned& cert) {
        ctx = SSL_CTX_new(TLS_server_method());
        SSL_CTX_use_certificate(ctx, cert.cert);
        SSL_CTX_use_PrivateKey(ctx, cert.key);
        ssl = SSL_new(ctx);
        rbio = BIO_new(BIO_s_mem());
        wbio = BIO_new(BIO_s_mem());
        SSL_set_bio(ssl, rbio, wbio);
        SSL_set_accept_state(ssl);
    }
    ~MemServer() {
        SSL_free(ssl);
        SSL_CTX_free(ctx);
    }
    void feed(const std::string& b) { BIO_write(rbio, b.data(), static_cast<int>(b.size())); }
    std::string take() {
        std::string out;
        char buf[4096];
        int n;
        while ((n = BIO_read(wbio, buf, sizeof buf)) > 0) out.append(buf, std::size_t(n));
        return out;
    }
    void step() {
        if (!SSL_is_init_finished(ssl)) SSL_do_handshake(ssl);
    }
};

// Pumps bytes both ways until the client is done or fails.
std::error_code pump(detail::TlsFilter& client, MemServer& server) {
    for (int i = 0; i < 20 && !client.done(); ++i) {
        if (auto ec = client.handshake()) return ec;
        std::string out;
        client.take_output(out);
        server.feed(out);
        server.step();
        std::string back = server.take();
        if (auto ec = client.feed(back.data(), back.size())) return ec;
    }
    ERR_clear_error();
    return client.done() ? std::error_code() : make_error_code(errc::tls_failed);
}

struct TlsFixture : ::testing::Test {
    test::SelfSigned cert;
    std::string dir;
    void SetUp() override {
        char tmpl[] = "/tmp/plex-tls-XXXXXX";
        ASSERT_TRUE(::mkdtemp(tmpl));
        dir = tmpl;
        ASSERT_TRUE(cert.write(dir));
    }
    void TearDown() override {
        std::string cmd = "rm -rf '" + dir + "'";
        [[maybe_unused]] int rc = std::system(cmd.c_str());
    }
    std::shared_ptr<detail::TlsContext> context(bool verify = true, std::string ca = "") {
        TlsConfig t;
        t.enabled = true;
        t.verify_peer = verify;
        t.ca_file = ca.empty() ? cert.cert_file : ca;
        std::shared_ptr<detail::TlsContext> ctx;
        EXPECT_FALSE(detail::make_tls_context(t, ctx));
        return ctx;
    }
};

TEST_F(TlsFixture, HandshakeAndDataBothWays) {
    for (std::string name : {"localhost", "127.0.0.1"}) {
        std::error_code ec;
        detail::TlsFilter client(context(), name, ec);
        ASSERT_FALSE(ec);
        MemServer server(cert);
        ASSERT_FALSE(pump(client, server)) << name << ": " << client.error_text();
        ASSERT_FALSE(client.write("hello node"));
        std::string out;
        client.take_output(out);
        server.feed(out);
        char buf[64];
        int n = SSL_read(server.ssl, buf, sizeof buf);
        ASSERT_GT(n, 0);
        EXPECT_EQ(std::string(buf, std::size_t(n)), "hello node");
        SSL_write(server.ssl, "hello app", 9);
        std::string back = server.take();
        ASSERT_FALSE(client.feed(back.data(), back.size()));
        std::string plain;
        bool closed = false;
        ASSERT_FALSE(client.read(plain, closed));
        EXPECT_EQ(plain, "hello app");
        EXPECT_FALSE(closed);
        SSL_shutdown(server.ssl);
        back = server.take();
        ASSERT_FALSE(client.feed(back.data(), back.size()));
        ASSERT_FALSE(client.read(plain, closed));
        EXPECT_TRUE(closed) << "close_notify is seen";
    }
}

TEST_F(TlsFixture, WrongHostNameFails) {
    std::error_code ec;
    detail::TlsFilter client(context(), "plex.example.com", ec);
    ASSERT_FALSE(ec);
    MemServer server(cert);
    EXPECT_EQ(pump(client, server), errc::tls_failed);
    EXPECT_NE(client.error_text().find("certificate"), std::string::npos) << client.error_text();
}

TEST_F(TlsFixture, UntrustedCertificateFailsUnlessVerificationIsOff) {
    test::SelfSigned other;
    ASSERT_TRUE(other.write(dir + "/other"));
    {
        std::error_code ec;
        detail::TlsFilter client(context(true, other.cert_file), "localhost", ec);
        MemServer server(cert);
        EXPECT_EQ(pump(client, server), errc::tls_failed);
    }
    {
        std::error_code ec;
        detail::TlsFilter client(context(false, other.cert_file), "localhost", ec);
        MemServer server(cert);
        EXPECT_FALSE(pump(client, server)) << client.error_text();
    }
}
#endif

} // namespace
} // namespace plex
