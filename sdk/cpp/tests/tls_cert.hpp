// Test helper: a self-signed certificate for localhost / 127.0.0.1 made with
// OpenSSL at run time (no key material is committed).
#pragma once

#include <cstdio>
#include <string>

#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace plex::test {

struct SelfSigned {
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    std::string cert_file, key_file;

    SelfSigned() {
        key = EVP_EC_gen("P-256");
        cert = X509_new();
        if (!key || !cert) return;
        static long serial = 1;
        ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
        X509_gmtime_adj(X509_getm_notBefore(cert), -60);
        X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
        X509_set_pubkey(cert, key);
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"),
                                   -1, -1, 0);
        X509_set_issuer_name(cert, name);
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
        if (X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name,
                                                      "DNS:localhost,IP:127.0.0.1")) {
            X509_add_ext(cert, ext, -1);
            X509_EXTENSION_free(ext);
        }
        if (X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE")) {
            X509_add_ext(cert, ext, -1);
            X509_EXTENSION_free(ext);
        }
        X509_sign(cert, key, EVP_sha256());
    }
    ~SelfSigned() {
        X509_free(cert);
        EVP_PKEY_free(key);
    }
    SelfSigned(const SelfSigned&) = delete;
    SelfSigned& operator=(const SelfSigned&) = delete;

    // Writes cert.pem and key.pem into dir (created if missing).
    bool write(const std::string& dir) {
        ::mkdir(dir.c_str(), 0700);
        cert_file = dir + "/cert.pem";
        key_file = dir + "/key.pem";
        FILE* c = std::fopen(cert_file.c_str(), "w");
        if (!c) return false;
        bool ok = PEM_write_X509(c, cert) == 1;
        std::fclose(c);
        FILE* k = std::fopen(key_file.c_str(), "w");
        if (!k) return false;
        ok = ok && PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
        std::fclose(k);
        return ok;
    }
};

} // namespace plex::test
