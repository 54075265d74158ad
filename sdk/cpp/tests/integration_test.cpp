// Integration tests against a real node: plexd started per test as
// docs/contract-draft.md describes it. They need the plexd binary in the
// PLEXD environment variable (ctest sets it from -DPLEX_PLEXD=...); without
// it every test here is reported as SKIPPED, never as passed.
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "node.hpp"
#include "plex/client.hpp"
#include "plex/errc.hpp"
#ifdef PLEX_TEST_TLS
#include "tls_cert.hpp"
#endif

namespace plex {
namespace {

using namespace std::chrono_literals;
using test::Node;
using test::Recorder;

class Integration : public ::testing::Test {
protected:
    void SetUp() override {
        if (test::plexd_path().empty())
            GTEST_SKIP() << "PLEXD is not set: integration tests need the node. Build it with "
                            "`go build -o _build/cpp/plexd ./cmd/plexd` and configure with "
                            "-DPLEX_PLEXD=<path> (sdk/cpp/ci.sh does both)";
        ASSERT_EQ(::access(test::plexd_path().c_str(), X_OK), 0) << "PLEXD=" << test::plexd_path()
                                                                  << " is not executable";
    }
    void TearDown() override {
        if (HasFailure()) std::cerr << "plexd log:\n" << node.log() << "\n";
    }

    void start_node(const std::vector<std::string>& extra = {}) {
        ASSERT_TRUE(node.start(extra)) << "plexd did not start:\n" << node.log();
    }

    Config config(std::string token = "alice") {
        Config c;
        c.addresses = {node.addr()};
        c.token = std::move(token);
        c.device_id = "cpp-test";
        c.backoff_min = 50ms;
        c.backoff_max = 500ms;
        c.connect_timeout = 3s;
        return c;
    }

    Node node;
};

TEST_F(Integration, AuthSuccess) {
    start_node();
    Recorder r; // outlives the client: its destructor delivers the final state
    Client c(config());
    r.attach(c);
    ASSERT_FALSE(c.connect());
    ASSERT_TRUE(r.wait_state(State::online)) << r.describe();
    EXPECT_EQ(c.state(), State::online);
    auto info = c.info();
    EXPECT_EQ(info.uid, "alice");
    EXPECT_EQ(info.heartbeat, 1000ms);
    EXPECT_EQ(info.timeout, 3000ms);
    EXPECT_TRUE(info.acks);
    c.close();
    EXPECT_EQ(c.state(), State::closed);
    ASSERT_TRUE(r.wait_state(State::closed)) << r.describe();
    EXPECT_FALSE(r.states().back().second) << "close() reports no error";
}

// Background mode against a real node: the node counts the connection in
// background mode once the client asked (plex_background_connections), and
// back in the foreground no more.
TEST_F(Integration, BackgroundModeIsAppliedByTheNode) {
    start_node({"-background-heartbeat", "2s"});
    auto background_conns = [&]() -> int {
        std::string body;
        if (test::http_request(node.http(), "GET", "/metrics", "", "S", body) != 200) return -1;
        auto at = body.find("\nplex_background_connections{");
        if (at == std::string::npos) return -1;
        auto sp = body.find("} ", at);
        return sp == std::string::npos ? -1 : std::atoi(body.c_str() + sp + 2);
    };
    auto eventually = [&](int want) {
        for (int i = 0; i < 200; ++i) {
            if (background_conns() == want) return true;
            std::this_thread::sleep_for(50ms);
        }
        return false;
    };
    Recorder r;
    Client c(config());
    r.attach(c);
    c.set_background(true); // before connect: asked once online
    ASSERT_FALSE(c.connect());
    ASSERT_TRUE(r.wait_state(State::online)) << r.describe();
    EXPECT_EQ(c.info().background_heartbeat, 2000ms);
    EXPECT_TRUE(eventually(1)) << "the node applied background mode";
    c.set_background(false);
    EXPECT_TRUE(eventually(0)) << "back in the foreground";
    c.close();
}

// message() and message_room() against plexd: an app with messages on
// (plexd turns them on per app, in its -config file), the node's result in
// the callback, the recipient's copy with the meta the node sets, and the
// node's refusals as their codes.
TEST_F(Integration, MessageToAUserAndARoom) {
    {
        std::ofstream f(node.dir() + "/apps.json");
        f << R"({"apps":[{"id":"talk","auth":"none","inner-secret":"T","messages":true}]})";
    }
    start_node({"-config", node.dir() + "/apps.json"});
    for (const char* uid : {"amy", "ben"}) {
        std::string resp;
        ASSERT_EQ(test::http_request(node.http(), "POST", "/plex/v1/rooms/crew/join",
                                     std::string(R"({"uid":")") + uid + "\"}", "T", resp), 200) << resp;
    }
    auto talk = [&](const char* uid) {
        Config c = config(uid);
        c.app = "talk";
        return c;
    };
    Recorder ra, rb, rd;
    Client amy(talk("amy")), ben(talk("ben")), dflt(config("amy"));
    ra.attach(amy);
    rb.attach(ben);
    rd.attach(dflt);
    EXPECT_EQ(amy.message("ben", "too early", "", nullptr), errc::not_connected);
    for (Client* c : {&amy, &ben, &dflt}) ASSERT_FALSE(c->connect());
    ASSERT_TRUE(ra.wait_state(State::online)) << ra.describe();
    ASSERT_TRUE(rb.wait_state(State::online)) << rb.describe();
    ASSERT_TRUE(rd.wait_state(State::online)) << rd.describe();

    // The answer, through the callback (on the dispatcher thread).
    struct Answer {
        std::mutex mu;
        std::condition_variable cv;
        bool done = false;
        std::error_code ec;
        MessageResult r;
    };
    auto send = [](auto&& start) {
        auto a = std::make_shared<Answer>();
        std::error_code now = start([a](std::error_code ec, const MessageResult& r) {
            std::lock_guard<std::mutex> lk(a->mu);
            a->ec = ec;
            a->r = r;
            a->done = true;
            a->cv.notify_all();
        });
        if (now) {
            a->ec = now;
            return a;
        }
        std::unique_lock<std::mutex> lk(a->mu);
        EXPECT_TRUE(a->cv.wait_for(lk, 10s, [&] { return a->done; })) << "no answer";
        return a;
    };

    auto to_ben = send([&](auto cb) { return amy.message("ben", "hi ben \xc3\xa9", "c1", cb); });
    ASSERT_FALSE(to_ben->ec) << to_ben->ec.message();
    EXPECT_FALSE(to_ben->r.id.empty());
    EXPECT_GT(to_ben->r.seq, 0);
    EXPECT_EQ(to_ben->r.delivered, 1);
    ASSERT_TRUE(rb.wait_message([](const Message& m) { return m.uri == "/message"; })) << rb.describe();
    auto got = rb.messages().back();
    EXPECT_EQ(got.body, "hi ben \xc3\xa9");
    EXPECT_EQ(got.seq, to_ben->r.seq);
    EXPECT_EQ(got.get(meta::from), "amy");
    EXPECT_EQ(got.get(meta::id), to_ben->r.id);
    EXPECT_EQ(got.get(meta::conversation), "c1");
    EXPECT_EQ(got.get(meta::persist), "1");

    auto to_crew = send([&](auto cb) { return amy.message_room("crew", "lunch?", "", cb); });
    ASSERT_FALSE(to_crew->ec) << to_crew->ec.message();
    EXPECT_EQ(to_crew->r.stored, 2) << "a copy per member, amy included";
    EXPECT_EQ(to_crew->r.delivered, 1) << "ben; the sending connection is not counted";
    EXPECT_GT(to_crew->r.seq, 0) << "amy is a member: her own copy";
    ASSERT_TRUE(rb.wait_message([](const Message& m) { return m.get(meta::room) == "crew"; })) << rb.describe();
    EXPECT_EQ(rb.messages().back().body, "lunch?");
    EXPECT_EQ(rb.messages().back().get(meta::from), "amy");

    EXPECT_EQ(send([&](auto cb) { return amy.message("amy", "me", "", cb); })->ec, errc::forbidden)
        << "the app's policy: not to oneself";
    EXPECT_EQ(send([&](auto cb) { return amy.message_room("strangers", "hi", "", cb); })->ec, errc::forbidden)
        << "not a member";
    EXPECT_EQ(send([&](auto cb) { return dflt.message("ben", "hi", "", cb); })->ec, errc::forbidden)
        << "the default app has messages off";
    EXPECT_EQ(amy.message("", "x", "", nullptr), errc::bad_request);
    EXPECT_EQ(amy.message("ben", "\xff", "", nullptr), errc::invalid_utf8);
    for (auto& m : ra.messages()) EXPECT_NE(m.uri, "/message") << "amy's connection gets no copy of her own";
}

// Drain against plexd (protocol §13.4, §13.6): plexd is paused (SIGSTOP),
// eight senders each send a burst of messages to ben, and plexd gets
// SIGTERM as it resumes: it executes some of them while it shuts down,
// answers what it executed, then sends /disconnect 3000; it is started
// again on the same address and data directory. Every message ends with an
// answer: ok (ben gets it exactly once, after his own reconnect if need
// be), or not executed (not_connected, not_executed, rate_limited: ben
// never gets it). None ends "outcome unknown", which a client that neither
// kept nor resent what the old node left unanswered would report; those are
// answered by the restarted node (counted in the output).
TEST_F(Integration, DrainAtShutdownAnswersEveryMessage) {
    {
        std::ofstream f(node.dir() + "/apps.json");
        f << R"({"apps":[{"id":"talk","auth":"none","inner-secret":"T","messages":true}]})";
    }
    const std::vector<std::string> flags = {"-config", node.dir() + "/apps.json"};
    start_node(flags);
    const std::string addr = node.addr();
    auto talk = [&](const std::string& uid) {
        Config c = config(uid);
        c.app = "talk";
        return c;
    };
    Recorder rb;
    Client ben(talk("ben"));
    rb.attach(ben);
    ASSERT_FALSE(ben.connect());
    ASSERT_TRUE(rb.wait_state(State::online)) << rb.describe();
    constexpr int senders = 8;
    constexpr int burst = 20; // a user may send 20 /messages at once (then 5 a second)
    std::vector<std::unique_ptr<Recorder>> rs;
    std::vector<std::unique_ptr<Client>> cs;
    for (int k = 0; k < senders; ++k) {
        rs.push_back(std::make_unique<Recorder>());
        cs.push_back(std::make_unique<Client>(talk("s" + std::to_string(k))));
        rs[k]->attach(*cs[k]);
        ASSERT_FALSE(cs[k]->connect());
    }
    for (auto& r : rs) ASSERT_TRUE(r->wait_state(State::online)) << r->describe();

    struct Outcome {
        std::string body;
        bool done = false;
        std::error_code ec;
        bool after_exit = false; // answered after the old process exited
    };
    std::mutex mu;
    std::condition_variable cv;
    std::vector<Outcome> out(senders * burst);
    int open = 0;
    std::atomic<bool> exited{false};
    // SIGTERM is taken when the node resumes; the bursts race its drain
    node.signal(SIGSTOP);
    node.signal(SIGTERM);
    node.signal(SIGCONT);
    for (int k = 0; k < senders; ++k) {
        for (int j = 0; j < burst; ++j) {
            int i = k * burst + j;
            std::string body = "s" + std::to_string(k) + "-" + std::to_string(j);
            std::lock_guard<std::mutex> lk(mu);
            out[i].body = body;
            std::error_code now = cs[k]->message("ben", body, "", [&, i](std::error_code ec, const MessageResult&) {
                std::lock_guard<std::mutex> lk(mu);
                out[i].done = true;
                out[i].ec = ec;
                out[i].after_exit = exited.load();
                --open;
                cv.notify_all();
            });
            if (now) {
                out[i].done = true;
                out[i].ec = now;
            } else {
                ++open;
            }
        }
    }
    node.stop(SIGTERM);
    exited = true;
    ASSERT_TRUE(node.start(flags, addr)) << "plexd did not restart on " << addr << ":\n" << node.log();

    std::vector<std::string> ok;
    int resent = 0, refused = 0;
    {
        std::unique_lock<std::mutex> lk(mu);
        ASSERT_TRUE(cv.wait_for(lk, 30s, [&] { return open == 0; })) << open << " messages never answered";
        for (const Outcome& o : out) {
            EXPECT_TRUE(o.done) << o.body;
            EXPECT_NE(o.ec, make_error_code(errc::outcome_unknown)) << o.body << ": the drain promise was not kept";
            if (!o.ec) {
                ok.push_back(o.body);
                resent += o.after_exit;
            } else {
                ++refused;
                EXPECT_TRUE(o.ec == errc::not_connected || o.ec == errc::not_executed || o.ec == errc::rate_limited)
                    << o.body << ": " << o.ec.message();
            }
        }
    }
    std::cerr << "note: " << ok.size() << " of " << out.size() << " messages answered ok (" << resent
              << " of them left unanswered by the stopped node and answered by the restarted one), " << refused
              << " not executed (made while the client was not online, or refused)\n";

    ASSERT_TRUE(rb.wait([&](auto& ms, auto&) {
        std::set<std::string> got;
        for (auto& m : ms)
            if (m.uri == "/message") got.insert(m.body);
        for (auto& b : ok)
            if (!got.count(b)) return false;
        return true;
    }, 20s)) << "ben did not get every message answered ok: " << rb.describe();
    std::this_thread::sleep_for(300ms); // nothing more may arrive
    std::map<std::string, int> times;
    for (auto& m : rb.messages())
        if (m.uri == "/message") ++times[m.body];
    std::set<std::string> okset(ok.begin(), ok.end());
    for (auto& [body, n] : times) {
        EXPECT_EQ(n, 1) << body << " delivered " << n << " times";
        EXPECT_TRUE(okset.count(body)) << body << " delivered but its sender was not told ok";
    }
    for (auto& c : cs) c->close();
}

TEST_F(Integration, AuthFailureIsTerminal) {
    start_node();
    Recorder r; // outlives the client: its destructor delivers the final state
    Client c(config("bad token!"));
    r.attach(c);
    ASSERT_FALSE(c.connect());
    ASSERT_TRUE(r.wait_state(State::closed)) << r.describe();
    EXPECT_EQ(r.states().back().second, errc::auth_failed) << r.describe();
    EXPECT_EQ(c.state(), State::closed);
    std::this_thread::sleep_for(1500ms); // well past any backoff
    EXPECT_EQ(Recorder::count(r.states(), State::connecting), 1u) << "no reconnect: " << r.describe();
    EXPECT_EQ(Recorder::count(r.states(), State::reconnecting), 0u) << r.describe();
}

TEST_F(Integration, PushReceived) {
    start_node();
    Recorder r; // outlives the client: its destructor delivers the final state
    Client c(config());
    r.attach(c);
    ASSERT_FALSE(c.connect());
    ASSERT_TRUE(r.wait_state(State::online)) << r.describe();

    auto out = test::push(node, R"({"uid":"alice","uri":"/x","body":"hi","persist":true})");
    ASSERT_FALSE(out.empty()) << "push refused";
    auto j = nlohmann::json::parse(out);
    EXPECT_EQ(j.value("delivered", 0), 1) << out;
    ASSERT_TRUE(r.wait_message([](const Message& m) { return m.uri == "/x"; })) << r.describe();
    auto m = r.messages().back();
    EXPECT_EQ(m.body, "hi");
    EXPECT_GT(m.seq, 0);
    EXPECT_EQ(m.get(meta::persist), "1");
    EXPECT_FALSE(m.get(meta::id).empty());
    for (int i = 0; i < 200 && c.last_seq() != m.seq; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(c.last_seq(), m.seq) << "processed (and acked) once the callback returned";

    // A transient push: no seq, no persist.
    ASSERT_FALSE(test::push(node, R"({"uid":"alice","uri":"/t","body":"now"})").empty());
    ASSERT_TRUE(r.wait_message([](const Message& m) { return m.uri == "/t"; })) << r.describe();
    EXPECT_EQ(r.messages().back().get(meta::persist), "");
}

TEST_F(Integration, UpstreamSendComesBackViaEcho) {
    start_node();
    Recorder r; // outlives the client: its destructor delivers the final state
    Client c(config());
    r.attach(c);
    EXPECT_EQ(c.send("/up", "too early"), errc::not_connected);
    ASSERT_FALSE(c.connect());
    ASSERT_TRUE(r.wait_state(State::online)) << r.describe();
    ASSERT_FALSE(c.send("/up", "ping <&> \xe2\x80\xa8 \xf0\x9f\x98\x80"));
    ASSERT_TRUE(r.wait_message([](const Message& m) { return m.uri == "/up"; })) << r.describe();
    EXPECT_EQ(r.messages().back().body, "ping <&> \xe2\x80\xa8 \xf0\x9f\x98\x80");
    EXPECT_EQ(c.send("/inner/push", "x"), errc::reserved_uri);
    EXPECT_EQ(c.send("/up", std::string(c.info().max_frame + 1, 'x')), errc::frame_too_large);
}

TEST_F(Integration, IdleConnectionStaysAliveThanksToHeartbeats) {
    start_node();
    Recorder r; // outlives the client: its destructor delivers the final state
    Client c(config());
    r.attach(c);
    ASSERT_FALSE(c.connect());
    ASSERT_TRUE(r.wait_state(State::online)) << r.describe();
    std::this_thread::sleep_for(4500ms); // the node closes silent peers after 3 s
    EXPECT_EQ(c.state(), State::online);
    EXPECT_EQ(r.states().size(), 2u) << "connecting, online only: " << r.describe();
    // And the connection still works.
    ASSERT_FALSE(c.send("/up", "still here"));
    EXPECT_TRUE(r.wait_message([](const Message& m) { return m.body == "still here"; })) << r.describe();
}

// The node is killed (SIGKILL) and restarted on the same port: the client
// reconnects with backoff, resumes from the last seq it holds, and every
// persistent push reaches the app exactly once. plexd without a durable
// store forgets its messages and per-user sequence on restart; the protocol
// (docs/protocol.md §12) requires a client to drop any persistent seq at or
// below the one it holds, so pushes the restarted node numbers at or below
// it are not delivered: the test checks exactly that, and delivery of every
// push numbered above it.
TEST_F(Integration, NodeKilledAndRestartedResumesWithoutLossOrDuplicate) {
    start_node();
    const std::string addr = node.addr();
    Recorder r; // outlives the client: its destructor delivers the final state
    Client c(config());
    r.attach(c);
    ASSERT_FALSE(c.connect());
    ASSERT_TRUE(r.wait_state(State::online)) << r.describe();

    auto push = [&](const std::string& body) -> std::int64_t {
        auto out = test::push(node, R"({"uid":"alice","uri":"/p","persist":true,"body":")" + body + "\"}");
        auto j = nlohmann::json::parse(out, nullptr, false);
        EXPECT_TRUE(j.is_object() && j.contains("seq")) << "push outcome: " << out;
        return j.is_object() ? j.value("seq", std::int64_t(0)) : 0;
    };
    // Seqs only promise to increase (plexd's JetStream store numbers them
    // from its stream sequence), so the test takes them from the outcomes.
    std::vector<std::string> want;
    std::int64_t last_pushed = 0;
    for (int i = 1; i <= 3; ++i) {
        last_pushed = push("before-" + std::to_string(i));
        want.push_back("before-" + std::to_string(i));
    }
    ASSERT_GT(last_pushed, 0);
    ASSERT_TRUE(r.wait([](auto& ms, auto&) { return ms.size() >= 3; })) << r.describe();
    for (int i = 0; i < 200 && c.last_seq() < last_pushed; ++i) std::this_thread::sleep_for(10ms);
    const std::int64_t held = c.last_seq();
    ASSERT_EQ(held, last_pushed) << "acked after the callbacks returned";
    std::this_thread::sleep_for(200ms); // the cumulative /ack reaches the node

    node.stop(SIGKILL);
    ASSERT_TRUE(r.wait_state(State::reconnecting)) << r.describe();
    std::this_thread::sleep_for(600ms); // a few failed attempts while it is down
    ASSERT_TRUE(node.start({}, addr)) << "plexd did not restart on " << addr << ":\n" << node.log();
    ASSERT_TRUE(r.wait_state(State::online, 15s, 2)) << r.describe();

    // Enough pushes that some are numbered above what the app holds even
    // when the restarted node counts from 1 again.
    int reset = 0;
    for (int i = 1; i <= 6; ++i) {
        std::string body = "after-" + std::to_string(i);
        std::int64_t seq = push(body);
        if (seq > held) want.push_back(body);
        else ++reset;
    }
    if (reset > 0)
        std::cerr << "note: the restarted node numbered " << reset << " pushes at or below seq " << held
                  << " (in-memory store); as docs/protocol.md §12 requires, the client dropped them\n";
    ASSERT_TRUE(r.wait([&](auto& ms, auto&) { return ms.size() >= want.size(); })) << r.describe();
    std::this_thread::sleep_for(300ms); // nothing more may arrive

    std::vector<std::string> got;
    std::set<std::int64_t> seqs;
    for (auto& m : r.messages()) {
        got.push_back(m.body);
        EXPECT_TRUE(seqs.insert(m.seq).second) << "seq " << m.seq << " delivered twice";
    }
    EXPECT_EQ(got, want) << r.describe();
    EXPECT_GE(Recorder::count(r.states(), State::reconnecting), 1u) << "reconnected by itself";
}

TEST_F(Integration, DiscoveryFindsTheNode) {
    start_node();
    Config cfg = config();
    cfg.addresses.clear();
    cfg.discovery_url = "http://" + node.http() + "/plex/v1/host";
    Recorder r; // outlives the client: its destructor delivers the final state
    Client c(cfg);
    r.attach(c);
    ASSERT_FALSE(c.connect());
    ASSERT_TRUE(r.wait_state(State::online)) << r.describe();
    ASSERT_FALSE(c.send("/up", "via discovery"));
    EXPECT_TRUE(r.wait_message([](const Message& m) { return m.body == "via discovery"; })) << r.describe();
}

TEST_F(Integration, DiscoveryFailureFallsBackToAddresses) {
    start_node();
    Config cfg = config();
    cfg.discovery_url = "http://127.0.0.1:1/plex/v1/host"; // nothing listens on port 1
    Recorder r; // outlives the client: its destructor delivers the final state
    Client c(cfg);
    r.attach(c);
    ASSERT_FALSE(c.connect());
    ASSERT_TRUE(r.wait_state(State::online)) << r.describe();
}

TEST_F(Integration, LittleEndianNode) {
    start_node({"-order", "little"});
    Config cfg = config();
    cfg.order = Order::little;
    Recorder r; // outlives the client: its destructor delivers the final state
    Client c(cfg);
    r.attach(c);
    ASSERT_FALSE(c.connect());
    ASSERT_TRUE(r.wait_state(State::online)) << r.describe();
    ASSERT_FALSE(c.send("/up", "le"));
    EXPECT_TRUE(r.wait_message([](const Message& m) { return m.body == "le"; })) << r.describe();
}

#ifdef PLEX_TEST_PROTOBUF
TEST_F(Integration, ProtobufCodec) {
    start_node();
    Config cfg = config();
    cfg.codec = Codec::protobuf;
    Recorder r; // outlives the client: its destructor delivers the final state
    Client c(cfg);
    r.attach(c);
    ASSERT_FALSE(c.connect());
    ASSERT_TRUE(r.wait_state(State::online)) << r.describe();
    EXPECT_EQ(c.info().uid, "alice");
    ASSERT_FALSE(c.send("/up", std::string("bin\x00\xff", 5)));
    EXPECT_TRUE(r.wait_message([](const Message& m) { return m.uri == "/up"; })) << r.describe();
    EXPECT_EQ(r.messages().back().body, std::string("bin\x00\xff", 5));
    ASSERT_FALSE(test::push(node, R"({"uid":"alice","uri":"/x","body":"pb","persist":true})").empty());
    EXPECT_TRUE(r.wait_message([](const Message& m) { return m.body == "pb"; })) << r.describe();
}
#endif

#ifdef PLEX_TEST_TLS
TEST_F(Integration, Tls) {
    test::SelfSigned cert;
    ASSERT_TRUE(cert.write(node.dir())) << "cannot write the test certificate";
    start_node({"-tls-cert", cert.cert_file, "-tls-key", cert.key_file});
    Config cfg = config();
    cfg.tls.enabled = true;
    cfg.tls.ca_file = cert.cert_file;
    Recorder r; // outlives the client: its destructor delivers the final state
    Client c(cfg);
    r.attach(c);
    ASSERT_FALSE(c.connect());
    ASSERT_TRUE(r.wait_state(State::online)) << r.describe();
    ASSERT_FALSE(c.send("/up", "over tls"));
    EXPECT_TRUE(r.wait_message([](const Message& m) { return m.body == "over tls"; })) << r.describe();
}

TEST_F(Integration, TlsWithUntrustedCertificateFails) {
    test::SelfSigned cert, other;
    ASSERT_TRUE(cert.write(node.dir()));
    ASSERT_TRUE(other.write(node.dir() + "/other"));
    start_node({"-tls-cert", cert.cert_file, "-tls-key", cert.key_file});
    Config cfg = config();
    cfg.tls.enabled = true;
    cfg.tls.ca_file = other.cert_file; // trusts a different certificate
    Recorder r; // outlives the client: its destructor delivers the final state
    Client c(cfg);
    r.attach(c);
    ASSERT_FALSE(c.connect());
    ASSERT_TRUE(r.wait_state(State::reconnecting)) << r.describe();
    EXPECT_EQ(r.states().back().second, errc::tls_failed) << r.describe();
}
#endif

} // namespace
} // namespace plex
