// Test helpers: a real plexd process, a tiny blocking HTTP client, and a
// recorder of a Client's callbacks.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "discovery.hpp"
#include "net.hpp"
#include "plex/client.hpp"

namespace plex::test {

// The plexd binary from the PLEXD environment variable (set by ctest from
// the PLEX_PLEXD cache variable); empty when not configured.
inline std::string plexd_path() {
    const char* p = std::getenv("PLEXD");
    return p ? p : "";
}

// One plexd process. start() waits for its ready file.
class Node {
public:
    Node() {
        char tmpl[] = "/tmp/plex-cpp-XXXXXX";
        dir_ = ::mkdtemp(tmpl) ? tmpl : "/tmp";
    }
    ~Node() {
        stop(SIGTERM);
        std::string cmd = "rm -rf '" + dir_ + "'";
        [[maybe_unused]] int rc = std::system(cmd.c_str());
    }
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    // Runs plexd with the standard test flags plus extra; addr "" = port 0.
    bool start(const std::vector<std::string>& extra = {}, std::string addr = "127.0.0.1:0") {
        std::string ready = dir_ + "/ready.json";
        ::unlink(ready.c_str());
        std::vector<std::string> args = {plexd_path(), "-addr", addr, "-http", "127.0.0.1:0",
                                         "-auth", "none", "-inner-secret", "S",
                                         "-heartbeat", "1s", "-heartbeat-timeout", "3s",
                                         "-upstream", "echo", "-ready-file", ready,
                                         // kept across a restart, removed with dir_ (not the checkout's default)
                                         "-data-dir", dir_ + "/data"};
        args.insert(args.end(), extra.begin(), extra.end());
        std::string log = dir_ + "/plexd.log";
        pid_ = ::fork();
        if (pid_ == 0) {
#ifdef __linux__
            // A test process that crashes must not leave its node running.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
            int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
            }
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        if (pid_ < 0) return false;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (std::chrono::steady_clock::now() < deadline) {
            std::ifstream in(ready);
            if (in) {
                auto j = nlohmann::json::parse(in, nullptr, false);
                if (j.is_object() && j.contains("addr") && j.contains("http")) {
                    addr_ = j["addr"].get<std::string>();
                    http_ = j["http"].get<std::string>();
                    return true;
                }
            }
            int status;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

    void stop(int sig) {
        if (pid_ <= 0) return;
        ::kill(pid_, sig);
        for (int i = 0; i < 500; ++i) {
            int status;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ::kill(pid_, SIGKILL);
        int status;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }

    // Sends sig and returns (SIGSTOP, SIGCONT: pause the node).
    void signal(int sig) {
        if (pid_ > 0) ::kill(pid_, sig);
    }

    const std::string& addr() const { return addr_; }
    const std::string& http() const { return http_; }
    const std::string& dir() const { return dir_; }
    std::string log() const {
        std::ifstream in(dir_ + "/plexd.log");
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

private:
    std::string dir_;
    pid_t pid_ = -1;
    std::string addr_, http_;
};

// A blocking HTTP/1.1 request; returns the status (0 on failure).
inline int http_request(const std::string& hostport, const std::string& method, const std::string& path,
                        const std::string& body, const std::string& bearer, std::string& response) {
    detail::HostPort hp;
    if (detail::split_host_port(hostport, hp)) return 0;
    std::vector<detail::SockAddr> addrs;
    if (detail::resolve(hp, addrs)) return 0;
    detail::Fd fd(::socket(addrs[0].addr.ss_family, SOCK_STREAM, 0));
    if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addrs[0].addr), addrs[0].len) != 0) return 0;
    timeval tv{10, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + hostport +
                      "\r\nConnection: close\r\nContent-Type: application/json\r\n";
    if (!bearer.empty()) req += "Authorization: Bearer " + bearer + "\r\n";
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    if (::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return 0;
    std::string raw;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n > 0) raw.append(buf, std::size_t(n));
        bool complete = false;
        int status = 0;
        if (detail::parse_http_response(raw, n <= 0, complete, status, response)) return 0;
        if (complete) return status;
        if (n <= 0) return 0;
    }
}

// Pushes through the node's HTTP API; returns the outcome JSON (or "").
inline std::string push(const Node& node, const std::string& json_body) {
    std::string resp;
    int status = http_request(node.http(), "POST", "/plex/v1/push", json_body, "S", resp);
    return status == 200 ? resp : "";
}

// Records a Client's callbacks and waits for conditions on them.
class Recorder {
public:
    void attach(Client& c) {
        c.on_message([this](const Message& m) {
            std::lock_guard<std::mutex> lk(mu_);
            msgs_.push_back(m);
            cv_.notify_all();
        });
        c.on_state([this](State s, std::error_code ec) {
            std::lock_guard<std::mutex> lk(mu_);
            states_.emplace_back(s, ec);
            cv_.notify_all();
        });
    }
    // Waits until pred(messages, states) holds.
    bool wait(const std::function<bool(const std::vector<Message>&,
                                       const std::vector<std::pair<State, std::error_code>>&)>& pred,
              std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        std::unique_lock<std::mutex> lk(mu_);
        return cv_.wait_for(lk, timeout, [&] { return pred(msgs_, states_); });
    }
    bool wait_state(State s, std::chrono::milliseconds timeout = std::chrono::seconds(10), std::size_t nth = 1) {
        return wait([&](auto&, auto& st) { return count(st, s) >= nth; }, timeout);
    }
    bool wait_message(const std::function<bool(const Message&)>& match,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        return wait([&](auto& ms, auto&) {
            for (auto& m : ms)
                if (match(m)) return true;
            return false;
        }, timeout);
    }
    std::vector<Message> messages() {
        std::lock_guard<std::mutex> lk(mu_);
        return msgs_;
    }
    std::vector<std::pair<State, std::error_code>> states() {
        std::lock_guard<std::mutex> lk(mu_);
        return states_;
    }
    static std::size_t count(const std::vector<std::pair<State, std::error_code>>& st, State s) {
        std::size_t n = 0;
        for (auto& x : st) n += x.first == s;
        return n;
    }
    std::string describe() {
        std::lock_guard<std::mutex> lk(mu_);
        std::string out = "states:";
        for (auto& [s, ec] : states_) {
            out += std::string(" ") + to_string(s);
            if (ec) out += "(" + ec.message() + ")";
        }
        out += "; messages:";
        for (auto& m : msgs_) out += " [" + std::to_string(m.seq) + " " + m.uri + " " + m.body + "]";
        return out;
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Message> msgs_;
    std::vector<std::pair<State, std::error_code>> states_;
};

} // namespace plex::test
