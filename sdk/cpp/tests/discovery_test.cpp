// Discovery: URL and HTTP response parsing, and GET /plex/v1/host against a
// tiny in-test HTTP server.
#include <atomic>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "discovery.hpp"
#include "net.hpp"
#include "plex/errc.hpp"

namespace plex::detail {
namespace {

using namespace std::chrono_literals;

TEST(HostPort, Split) {
    HostPort hp;
    ASSERT_FALSE(split_host_port("127.0.0.1:9578", hp));
    EXPECT_EQ(hp.host, "127.0.0.1");
    EXPECT_EQ(hp.port, "9578");
    ASSERT_FALSE(split_host_port("[::1]:80", hp));
    EXPECT_EQ(hp.host, "::1");
    ASSERT_FALSE(split_host_port("node.example:1", hp));
    for (auto bad : {"", "host", "host:", ":80", "::1:80", "[::1]80", "h:99999", "h:8x", "[::1]:"})
        EXPECT_EQ(split_host_port(bad, hp), errc::invalid_config) << bad;
}

TEST(HttpUrl, Parse) {
    HttpUrl u;
    ASSERT_FALSE(parse_http_url("http://127.0.0.1:9579/plex/v1/host", u));
    EXPECT_EQ(u.host, "127.0.0.1");
    EXPECT_EQ(u.port, "9579");
    EXPECT_EQ(u.path, "/plex/v1/host");
    ASSERT_FALSE(parse_http_url("http://lb.example", u));
    EXPECT_EQ(u.port, "80");
    EXPECT_EQ(u.path, "/plex/v1/host") << "no path: the standard one";
    ASSERT_FALSE(parse_http_url("HTTP://[::1]:8080/", u));
    EXPECT_EQ(u.host, "::1");
    EXPECT_EQ(u.path, "/plex/v1/host");
    ASSERT_FALSE(parse_http_url("http://[::1]/x?region=eu", u));
    EXPECT_EQ(u.port, "80");
    EXPECT_EQ(u.path, "/x?region=eu");
    for (auto bad : {"", "https://a/b", "ftp://a", "http://", "http://u@h/", "http://h:x/", "http://h/a b"})
        EXPECT_EQ(parse_http_url(bad, u), errc::invalid_config) << bad;
}

TEST(HttpResponse, ContentLength) {
    std::string r = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n"
                    "{\"host\":\"10.0.0.1:9578\"}\n  ";
    bool complete;
    int status;
    std::string body;
    ASSERT_FALSE(parse_http_response(r.substr(0, 40), false, complete, status, body));
    EXPECT_FALSE(complete);
    ASSERT_FALSE(parse_http_response(r.substr(0, r.size() - 5), false, complete, status, body));
    EXPECT_FALSE(complete);
    ASSERT_FALSE(parse_http_response(r, false, complete, status, body));
    EXPECT_TRUE(complete);
    EXPECT_EQ(status, 200);
    std::string host;
    ASSERT_FALSE(parse_host_json(body, host));
    EXPECT_EQ(host, "10.0.0.1:9578");
}

TEST(HttpResponse, ChunkedAndCloseDelimited) {
    std::string r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5\r\n{\"hos\r\n11;ext=1\r\nt\":\"10.0.0.2:1\"}\n\r\n0\r\n\r\n";
    bool complete;
    int status;
    std::string body;
    ASSERT_FALSE(parse_http_response(r.substr(0, r.size() - 2), false, complete, status, body));
    EXPECT_FALSE(complete);
    ASSERT_FALSE(parse_http_response(r, false, complete, status, body));
    ASSERT_TRUE(complete);
    EXPECT_EQ(body, "{\"host\":\"10.0.0.2:1\"}\n");

    std::string c = "HTTP/1.0 200 OK\r\n\r\n{\"host\":\"h:1\"}";
    ASSERT_FALSE(parse_http_response(c, false, complete, status, body));
    EXPECT_FALSE(complete) << "no length: the body ends at EOF";
    ASSERT_FALSE(parse_http_response(c, true, complete, status, body));
    EXPECT_TRUE(complete);
    EXPECT_EQ(body, "{\"host\":\"h:1\"}");
}

TEST(HttpResponse, Broken) {
    bool complete;
    int status;
    std::string body;
    EXPECT_TRUE(parse_http_response("garbage\r\n\r\n", false, complete, status, body));
    EXPECT_TRUE(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true, complete, status, body));
    EXPECT_TRUE(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", false, complete, status, body));
    EXPECT_TRUE(parse_http_response("HTTP/1.1 200", true, complete, status, body));
}

TEST(HostJson, Checks) {
    std::string host;
    EXPECT_FALSE(parse_host_json(R"({"host":"[::1]:9578","load":3})", host));
    EXPECT_EQ(host, "[::1]:9578");
    for (auto bad : {"", "[]", "{}", R"({"host":1})", R"({"host":"nocolon"})", "{\"host\":\"a:1\""})
        EXPECT_EQ(parse_host_json(bad, host), errc::discovery_failed) << bad;
}

// Serves one canned response per connection on 127.0.0.1:<port>.
class FakeHttp {
public:
    explicit FakeHttp(std::string response, bool respond = true) : response_(std::move(response)), respond_(respond) {
        fd_.reset(::socket(AF_INET, SOCK_STREAM, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(fd_.get(), 8);
        socklen_t len = sizeof a;
        ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeHttp() {
        stop_ = true;
        thread_.join();
    }
    std::string url(const std::string& path = "/plex/v1/host") const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    std::string last_request() {
        std::lock_guard<std::mutex> lk(mu_);
        return last_request_;
    }

private:
    void serve() {
        while (!stop_) {
            pollfd p{fd_.get(), POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            Fd c(::accept(fd_.get(), nullptr, nullptr));
            if (!c) continue;
            std::string req;
            char buf[1024];
            while (req.find("\r\n\r\n") == std::string::npos) {
                ssize_t n = ::read(c.get(), buf, sizeof buf);
                if (n <= 0) break;
                req.append(buf, std::size_t(n));
            }
            {
                std::lock_guard<std::mutex> lk(mu_);
                last_request_ = req;
            }
            if (!respond_) {
                while (!stop_) std::this_thread::sleep_for(10ms);
                return;
            }
            // Dribble the response in small writes.
            for (std::size_t i = 0; i < response_.size(); i += 7) {
                std::string part = response_.substr(i, 7);
                [[maybe_unused]] auto n = ::write(c.get(), part.data(), part.size());
            }
        }
    }
    std::mutex mu_;
    std::string last_request_;
    std::string response_;
    bool respond_;
    Fd fd_;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

TEST(Discover, GetsTheHost) {
    FakeHttp srv("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n"
                 "{\"host\":\"127.0.0.1:45678\"}\n");
    std::string host;
    auto never = [] { return false; };
    ASSERT_FALSE(discover(srv.url(), std::chrono::steady_clock::now() + 5s, -1, never, host));
    EXPECT_EQ(host, "127.0.0.1:45678");
    std::string req = srv.last_request();
    EXPECT_EQ(req.rfind("GET /plex/v1/host HTTP/1.1\r\n", 0), 0u) << req;
    EXPECT_NE(req.find("Host: 127.0.0.1:"), std::string::npos);
}

TEST(Discover, Non200Fails) {
    FakeHttp srv("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
    std::string host;
    EXPECT_EQ(discover(srv.url(), std::chrono::steady_clock::now() + 5s, -1, [] { return false; }, host),
              errc::discovery_failed);
}

TEST(Discover, TimesOut) {
    FakeHttp srv("", /*respond=*/false);
    std::string host;
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(discover(srv.url(), t0 + 300ms, -1, [] { return false; }, host), errc::discovery_failed);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST(Discover, WakeupAborts) {
    FakeHttp srv("", /*respond=*/false);
    WakePipe wake;
    ASSERT_TRUE(wake.ok());
    std::thread t([&] {
        std::this_thread::sleep_for(100ms);
        wake.signal();
    });
    std::string host;
    auto t0 = std::chrono::steady_clock::now();
    auto ec = discover(srv.url(), t0 + 10s, wake.fd(), [&] { wake.drain(); return true; }, host);
    t.join();
    EXPECT_EQ(ec, errc::closed);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST(Discover, NothingListening) {
    std::string host;
    EXPECT_EQ(discover("http://127.0.0.1:1/plex/v1/host", std::chrono::steady_clock::now() + 2s, -1,
                       [] { return false; }, host),
              errc::discovery_failed);
}

} // namespace
} // namespace plex::detail
