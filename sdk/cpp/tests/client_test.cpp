// Client without a real node: configuration errors, reconnect against a
// closed port, and a minimal in-test node for the threading contract.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.hpp"
#include "node.hpp"
#include "plex/client.hpp"
#include "plex/errc.hpp"

namespace plex {
namespace {

using namespace std::chrono_literals;
using test::Recorder;

TEST(ClientConfig, Errors) {
    EXPECT_EQ(Client(Config{}).connect(), errc::invalid_config) << "no address, no discovery";
    Config c;
    c.addresses = {"no-port"};
    EXPECT_EQ(Client(c).connect(), errc::invalid_config);
    c.addresses = {"127.0.0.1:1"};
    c.discovery_url = "https://secure.example/plex/v1/host";
    EXPECT_EQ(Client(c).connect(), errc::invalid_config) << "plain http only";
    c.discovery_url.clear();
    c.max_frame = 0;
    EXPECT_EQ(Client(c).connect(), errc::invalid_config);
#ifndef PLEX_TEST_PROTOBUF
    c.max_frame = default_limit;
    c.codec = Codec::protobuf;
    EXPECT_EQ(Client(c).connect(), errc::protobuf_unavailable);
#endif
}

TEST(Client, DefaultsFromTheContract) {
    Config c;
    EXPECT_EQ(c.order, Order::big);
    EXPECT_EQ(c.codec, Codec::json);
    EXPECT_TRUE(c.acks);
    EXPECT_EQ(c.max_frame, 1u << 20);
    EXPECT_EQ(c.heartbeat, 30s);
    EXPECT_EQ(c.heartbeat_timeout, 75s);
    Client client(c);
    EXPECT_EQ(client.state(), State::idle);
    EXPECT_EQ(client.send("/x", "y"), errc::not_connected);
    client.close(); // never connected: harmless
}

TEST(Client, RefusedConnectionBacksOffUntilClosed) {
    Config c;
    c.addresses = {"127.0.0.1:1"};
    c.backoff_min = 10ms;
    c.backoff_max = 40ms;
    Recorder r; // outlives the client: its destructor delivers the final state
    Client client(c);
    r.attach(client);
    ASSERT_FALSE(client.connect());
    EXPECT_FALSE(client.connect()) << "a second connect() is a no-op";
    ASSERT_TRUE(r.wait_state(State::reconnecting, 5s, 3)) << r.describe();
    for (auto& [s, ec] : r.states()) {
        if (s == State::reconnecting) {
            EXPECT_EQ(ec, std::errc::connection_refused) << ec.message();
        }
    }
    client.close();
    ASSERT_TRUE(r.wait_state(State::closed)) << r.describe();
    EXPECT_FALSE(r.states().back().second);
    auto n = r.states().size();
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(r.states().size(), n) << "nothing after close";
}

// A minimal node on 127.0.0.1: accepts one connection at a time, answers
// /auth/server with /auth/success, echoes everything else (heartbeats too),
// and records every /auth/server and /ack with the connection's number.
class FakeNode {
public:
    FakeNode() {
        fd_.reset(::socket(AF_INET, SOCK_STREAM, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(fd_.get(), 8);
        socklen_t len = sizeof a;
        ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
        addr_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeNode() {
        stop_ = true;
        thread_.join();
    }
    const std::string& addr() const { return addr_; }
    int accepts() const { return accepts_.load(); }
    // The /auth/success body for the next logins.
    void set_success(std::string body) {
        std::lock_guard<std::mutex> lk(mu_);
        success_ = std::move(body);
    }
    // The /auth/server and /ack frames received so far, with the number of
    // the connection (1, 2, ...) they came on.
    std::vector<std::pair<int, Message>> received() {
        std::lock_guard<std::mutex> lk(mu_);
        return received_;
    }
    // Sends m on the current connection.
    void push(const Message& m) {
        std::string f;
        append_frame(f, Order::big, Codec::json, m);
        std::lock_guard<std::mutex> lk(mu_);
        if (conn_ >= 0) {
            [[maybe_unused]] auto n = ::send(conn_, f.data(), f.size(), MSG_NOSIGNAL);
        }
    }

private:
    void serve() {
        while (!stop_) {
            pollfd p{fd_.get(), POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            detail::Fd c(::accept(fd_.get(), nullptr, nullptr));
            if (!c) continue;
            ++accepts_;
            {
                std::lock_guard<std::mutex> lk(mu_);
                conn_ = c.get();
            }
            FrameDecoder dec;
            char buf[4096];
            while (!stop_) {
                pollfd q{c.get(), POLLIN, 0};
                if (::poll(&q, 1, 20) <= 0) continue;
                ssize_t n = ::read(c.get(), buf, sizeof buf);
                if (n <= 0) break;
                dec.feed(buf, std::size_t(n));
                std::string_view body;
                std::error_code ec;
                while (dec.next(body, ec)) {
                    Message m;
                    if (decode(Codec::json, body, m)) break;
                    if (m.uri == "/auth/server" || m.uri == "/ack") {
                        Message got = m;
                        if (m.uri == "/auth/server") {
                            std::lock_guard<std::mutex> lk(mu_);
                            m = Message{0, "/auth/success", success_, {}};
                        }
                        if (m.uri != "/ack") push(m); // recorded after the answer went out
                        std::lock_guard<std::mutex> lk(mu_);
                        received_.emplace_back(accepts_.load(), std::move(got));
                        continue;
                    }
                    push(m);
                }
            }
            std::lock_guard<std::mutex> lk(mu_);
            conn_ = -1;
        }
    }
    detail::Fd fd_;
    std::string addr_;
    std::mutex mu_;
    int conn_ = -1;
    std::string success_ = R"({"uid":"u","heartbeat_ms":500,"timeout_ms":5000})";
    std::vector<std::pair<int, Message>> received_;
    std::atomic<int> accepts_{0};
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

Config fake_config(const FakeNode& n) {
    Config c;
    c.addresses = {n.addr()};
    c.token = "u";
    c.backoff_min = 10ms;
    c.backoff_max = 50ms;
    return c;
}

TEST(Client, ConcurrentSendsKeepPerThreadOrder) {
    FakeNode node;
    Recorder r; // outlives the client: its destructor delivers the final state
    Client client(fake_config(node));
    r.attach(client);
    ASSERT_FALSE(client.connect());
    ASSERT_TRUE(r.wait_state(State::online)) << r.describe();
    constexpr int threads = 4, per_thread = 200;
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
        ts.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                std::error_code ec;
                while ((ec = client.send("/t" + std::to_string(t), std::to_string(i))) == errc::queue_full)
                    std::this_thread::yield();
                ASSERT_FALSE(ec) << ec.message();
            }
        });
    for (auto& t : ts) t.join();
    ASSERT_TRUE(r.wait([&](auto& ms, auto&) { return ms.size() >= std::size_t(threads * per_thread); }, 20s))
        << r.messages().size();
    std::vector<int> next(threads, 0);
    for (auto& m : r.messages()) {
        int t = m.uri[2] - '0';
        EXPECT_EQ(std::stoi(m.body), next[t]++) << "order within a sender";
    }
}

TEST(Client, CloseFromACallbackDoesNotDeadlock) {
    FakeNode node;
    Recorder r; // outlives the client: its destructor delivers the final state
    std::atomic<bool> closed{false};
    Client client(fake_config(node));
    r.attach(client);
    client.on_message([&](const Message&) {
        client.close();
        closed = true;
    });
    ASSERT_FALSE(client.connect());
    ASSERT_TRUE(r.wait_state(State::online)) << r.describe();
    ASSERT_FALSE(client.send("/x", "y"));
    for (int i = 0; i < 500 && !closed; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(closed);
    ASSERT_TRUE(r.wait_state(State::closed)) << r.describe();
    EXPECT_EQ(client.state(), State::closed);
}

TEST(Client, DestroyedFromItsOwnCallback) {
    FakeNode node;
    auto client = std::make_unique<Client>(fake_config(node));
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    client->on_state([&](State s, std::error_code) {
        if (s != State::online) return;
        client.reset(); // the last resort the destructor tolerates
        std::lock_guard<std::mutex> lk(mu);
        done = true;
        cv.notify_all();
    });
    ASSERT_FALSE(client->connect());
    std::unique_lock<std::mutex> lk(mu);
    ASSERT_TRUE(cv.wait_for(lk, 10s, [&] { return done; }));
    std::this_thread::sleep_for(50ms); // the detached dispatcher winds down
}

TEST(Client, ReconnectsWhenTheNodeDropsTheConnection) {
    auto node = std::make_unique<FakeNode>();
    Config cfg = fake_config(*node);
    Recorder r; // outlives the client: its destructor delivers the final state
    Client client(cfg);
    r.attach(client);
    ASSERT_FALSE(client.connect());
    ASSERT_TRUE(r.wait_state(State::online)) << r.describe();
    node->push(Message{0, "/disconnect", "bye", {{"code", "3000"}, {"reason", "bye"}}});
    ASSERT_TRUE(r.wait_state(State::online, 10s, 2)) << r.describe();
    bool saw_shutdown = false;
    for (auto& [s, ec] : r.states()) saw_shutdown |= s == State::reconnecting && ec == errc::shutdown;
    EXPECT_TRUE(saw_shutdown) << r.describe();
    // A terminal code stops it.
    node->push(Message{0, "/disconnect", "", {{"code", "4002"}}});
    ASSERT_TRUE(r.wait_state(State::closed)) << r.describe();
    EXPECT_EQ(r.states().back().second, errc::replaced);
    EXPECT_EQ(client.state(), State::closed);
    // connect() starts it again.
    ASSERT_FALSE(client.connect());
    ASSERT_TRUE(r.wait_state(State::online, 10s, 3)) << r.describe();
}

Message persistent(std::int64_t seq) {
    return Message{seq, "/chat", std::to_string(seq), {{"persist", "1"}, {"id", "m" + std::to_string(seq)}}};
}

// protocol §12: a node whose store never issued the app's seqs answers a
// resume point below what the app sent. The client drops nothing new as a
// duplicate, delivers what was queued from the old connection first, and
// never acks an old seq on the new connection, even when it is woken while
// the old messages are still queued.
TEST(Client, RewindsAfterTheMessagesQueuedBefore) {
    FakeNode node;
    node.set_success(R"({"uid":"u","heartbeat_ms":500,"timeout_ms":5000,"acks":true,"resume":1000})");
    Config cfg = fake_config(node);
    cfg.resume_from = 1000;
    Recorder r; // outlives the client: its destructor delivers the final state
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::int64_t> seqs; // persistent seqs, in callback order
    bool release = false;
    Client client(cfg);
    r.attach(client);
    client.on_message([&](const Message& m) {
        if (m.get("persist") != "1") return;
        std::unique_lock<std::mutex> lk(mu);
        seqs.push_back(m.seq);
        cv.notify_all();
        if (m.seq == 1002) cv.wait(lk, [&] { return release; }); // old messages stay queued
    });
    struct Release { // before the client's destructor joins the dispatcher
        std::mutex& mu; std::condition_variable& cv; bool& release;
        ~Release() { std::lock_guard<std::mutex> lk(mu); release = true; cv.notify_all(); }
    } guard{mu, cv, release};
    auto acks_on = [&](int conn) {
        std::vector<std::int64_t> out;
        for (auto& [c, m] : node.received())
            if (c == conn && m.uri == "/ack") out.push_back(m.seq);
        return out;
    };
    auto wait_for = [&](const std::function<bool()>& pred) {
        for (int i = 0; i < 1000 && !pred(); ++i) std::this_thread::sleep_for(10ms);
        return pred();
    };

    ASSERT_FALSE(client.connect());
    ASSERT_TRUE(r.wait_state(State::online)) << r.describe();
    node.push(persistent(1001));
    ASSERT_TRUE(wait_for([&] { return !acks_on(1).empty() && acks_on(1).back() == 1001; }));
    node.push(persistent(1002)); // its callback blocks

    // The node loses its store; the next login is answered from seq 0.
    node.set_success(R"({"uid":"u","heartbeat_ms":500,"timeout_ms":5000,"acks":true,"resume":0})");
    node.push(Message{0, "/disconnect", "bye", {{"code", "3000"}, {"reason", "bye"}}});
    ASSERT_TRUE(wait_for([&] {
        for (auto& [c, m] : node.received())
            if (c == 2 && m.uri == "/auth/server") return true;
        return false;
    }));
    for (auto& [c, m] : node.received())
        if (c == 2 && m.uri == "/auth/server") {
            EXPECT_EQ(m.get("resume"), "1002");
        }
    node.push(persistent(5));
    node.push(persistent(1500));
    std::this_thread::sleep_for(100ms); // both queued behind 1002
    EXPECT_FALSE(client.send("/x", "y")) << "wakes the I/O thread while the old seqs are queued";
    std::this_thread::sleep_for(100ms);
    EXPECT_TRUE(acks_on(2).empty()) << "an old seq acked on the new store";
    {
        std::lock_guard<std::mutex> lk(mu);
        release = true;
        cv.notify_all();
    }
    ASSERT_TRUE(wait_for([&] { return !acks_on(2).empty() && acks_on(2).back() == 1500; }))
        << "acks on the new connection: " << acks_on(2).size();
    for (auto a : acks_on(2)) EXPECT_TRUE(a == 5 || a == 1500) << "ack " << a;
    {
        std::lock_guard<std::mutex> lk(mu);
        EXPECT_EQ(seqs, (std::vector<std::int64_t>{1001, 1002, 5, 1500}));
    }
    EXPECT_EQ(client.last_seq(), 1500);
}

} // namespace
} // namespace plex
