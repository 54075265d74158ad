#include "plex/client.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <variant>

#include <map>

#include <poll.h>

#include <nlohmann/json.hpp>

#include "discovery.hpp"
#include "net.hpp"
#include "tls.hpp"
#include "transport.hpp"

namespace plex {

bool tls_available() noexcept { return detail::tls_built_in(); }

namespace {

struct StateEvent {
    State state;
    std::error_code error;
};
// The app's highest seq becomes seq once every message queued before it was
// handled (action::Rewind).
struct RewindEvent {
    std::int64_t seq;
};
// The answer to a message() for its callback.
struct ReplyEvent {
    Client::MessageCallback done;
    std::error_code error;
    MessageResult result;
};
using Event = std::variant<Message, StateEvent, RewindEvent, ReplyEvent>;

// A message() on its way to the I/O thread.
struct Request {
    Message m;
    Client::MessageCallback done;
};

// The /reply body of /message; an unreadable one leaves the outcome unknown.
std::error_code parse_result(const std::string& body, MessageResult& r) {
    auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return errc::outcome_unknown;
    auto num = [&](const char* k) -> std::int64_t {
        auto it = j.find(k);
        return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
    };
    if (auto it = j.find("id"); it != j.end() && it->is_string()) r.id = it->get<std::string>();
    r.seq = num("seq");
    r.stored = num("stored");
    r.delivered = num("delivered");
    return {};
}

} // namespace

struct Client::Impl : std::enable_shared_from_this<Impl> {
    explicit Impl(Config c) : cfg(std::move(c)), queued_seq(cfg.resume_from), delivered(cfg.resume_from) {}

    const Config cfg;
    std::shared_ptr<detail::TlsContext> tls;

    // Callbacks, swapped under cb_mu and called with no lock held.
    std::mutex cb_mu;
    std::shared_ptr<const MessageHandler> on_msg;
    std::shared_ptr<const StateHandler> on_st;

    // Between callers and the I/O thread.
    std::mutex mu;
    std::deque<std::string> outq; // encoded frames for the I/O thread
    std::deque<Request> reqq;     // message()s for the I/O thread
    bool io_ended = false;        // the I/O thread answered its last request: reqq is closed
    std::size_t out_bytes = 0;
    bool stop = false;
    SessionInfo info;
    detail::WakePipe wake;
    std::atomic<State> state{State::idle};
    std::atomic<std::int64_t> queued_seq; // highest persistent seq handed to the dispatcher
    std::atomic<std::int64_t> delivered;  // highest persistent seq whose callback returned
    // Rewinds handed to the dispatcher (I/O thread only, across sessions) and
    // those it has passed. While they differ, delivered may still be a seq
    // from before the last rewind and is not reported to the session.
    std::uint64_t rewinds_posted = 0;
    std::atomic<std::uint64_t> rewinds_passed{0};
    std::atomic<std::uint32_t> send_limit{0};
    std::atomic<std::size_t> socket_pending{0};
    // Requests the I/O thread holds unanswered (the session's, and those
    // taken during discovery): while not online, they all wait for online
    // and message() refuses beyond Config::max_waiting_requests.
    std::atomic<std::size_t> held_requests{0};
    std::atomic<bool> background{false}; // set_background's wish, applied by the I/O thread

    std::mutex life_mu; // serialises connect/close/destruction
    bool destroying = false; // under life_mu: connect() from a late callback is refused
    std::thread io;
    std::thread::id io_id;

    // Dispatcher.
    std::mutex dq_mu;
    std::condition_variable dq_cv;
    std::deque<Event> dq;
    bool dq_quit = false;
    std::thread disp;
    std::thread::id disp_id;

    void post(Event e) {
        {
            std::lock_guard<std::mutex> lk(dq_mu);
            dq.push_back(std::move(e));
        }
        dq_cv.notify_one();
    }

    // The dispatcher thread: events in order, callbacks without locks.
    // Exits when told to quit and the queue is empty.
    // After each batch (the queue ran empty) the I/O thread is told the
    // highest persistent seq processed: it sends one cumulative /ack.
    void dispatch() {
        std::int64_t processed = delivered.load();
        for (;;) {
            Event e;
            {
                std::unique_lock<std::mutex> lk(dq_mu);
                if (dq.empty() && processed > delivered.load()) {
                    delivered.store(processed);
                    wake.signal();
                }
                dq_cv.wait(lk, [&] { return dq_quit || !dq.empty(); });
                if (dq.empty()) return;
                e = std::move(dq.front());
                dq.pop_front();
            }
            if (auto* rep = std::get_if<ReplyEvent>(&e)) {
                try {
                    if (rep->done) rep->done(rep->error, rep->result);
                } catch (...) {
                    // as for the other callbacks below
                }
                continue;
            }
            if (auto* r = std::get_if<RewindEvent>(&e)) {
                // Everything queued before it was handled: the seqs restart
                // here, delivered may go down (the I/O thread reads it only
                // once rewinds_passed has caught up).
                processed = r->seq;
                delivered.store(r->seq);
                rewinds_passed.fetch_add(1);
                wake.signal();
                continue;
            }
            try {
                if (auto* m = std::get_if<Message>(&e)) {
                    std::shared_ptr<const MessageHandler> h;
                    {
                        std::lock_guard<std::mutex> lk(cb_mu);
                        h = on_msg;
                    }
                    if (h && *h) (*h)(*m);
                    if (m->seq > processed && m->get(meta::persist) == "1") processed = m->seq;
                } else {
                    auto& s = std::get<StateEvent>(e);
                    std::shared_ptr<const StateHandler> h;
                    {
                        std::lock_guard<std::mutex> lk(cb_mu);
                        h = on_st;
                    }
                    if (h && *h) (*h)(s.state, s.error);
                }
            } catch (...) {
                // A throwing callback must not take the dispatcher down; the
                // event counts as handled and the next one is delivered.
                if (auto* m = std::get_if<Message>(&e)) {
                    if (m->seq > processed && m->get(meta::persist) == "1") processed = m->seq;
                }
            }
        }
    }

    // Requests taken from reqq, for the I/O thread (also while it waits
    // in discovery, which must not lose them); their callbacks by request id.
    std::deque<Request> reqs;
    std::map<std::int64_t, MessageCallback> waiting;

    bool take_stop_and_queue(std::deque<std::string>& frames) {
        wake.drain();
        std::lock_guard<std::mutex> lk(mu);
        frames.swap(outq);
        out_bytes = 0;
        held_requests.store(held_requests.load() + reqq.size()); // written by this thread only
        for (auto& r : reqq) reqs.push_back(std::move(r));
        reqq.clear();
        return stop;
    }

    // Hands the requests taken to the session, which writes them or keeps
    // them until online (§13.6); one it refuses (idle or closed, too many
    // waiting, or the client stops) is answered at once: it was not sent.
    void start_requests(Session& s, Clock::time_point now, bool stopping) {
        for (auto& r : std::exchange(reqs, {})) {
            std::int64_t id = 0;
            std::error_code ec = stopping ? make_error_code(errc::closed) : s.request(now, std::move(r.m), id);
            if (ec) post(ReplyEvent{std::move(r.done), ec, {}});
            else waiting[id] = std::move(r.done);
        }
    }

    // The I/O thread. Exits when the session is closed (close() or a
    // terminal code); the socket is closed before it returns.
    void run() {
        Config scfg = cfg;
        scfg.resume_from = queued_seq.load();
        Session s(scfg);
        detail::Connection conn;
        std::string in;
        std::deque<std::string> frames;
        bool bg = background.load();
        s.set_background(Clock::now(), bg);
        s.start(Clock::now());

        for (;;) {
            // Carry out what the session asked for.
            while (s.has_actions()) {
                for (auto& a : s.take_actions()) {
                    if (auto* c = std::get_if<action::Connect>(&a)) {
                        open(s, conn, c->attempt);
                    } else if (auto* w = std::get_if<action::Write>(&a)) {
                        if (auto ec = conn.write(w->bytes)) s.on_closed(Clock::now(), ec);
                    } else if (std::holds_alternative<action::Disconnect>(a)) {
                        conn.close();
                    } else if (auto* d = std::get_if<action::Deliver>(&a)) {
                        queued_seq.store(s.last_seq());
                        post(std::move(d->message));
                    } else if (auto* r = std::get_if<action::Rewind>(&a)) {
                        queued_seq.store(r->seq);
                        ++rewinds_posted;
                        post(RewindEvent{r->seq});
                    } else if (auto* rep = std::get_if<action::Reply>(&a)) {
                        auto it = waiting.find(rep->id);
                        if (it == waiting.end()) continue;
                        ReplyEvent ev{std::move(it->second), rep->error, {}};
                        waiting.erase(it);
                        if (!ev.error) ev.error = parse_result(rep->reply.body, ev.result);
                        post(std::move(ev));
                    } else if (auto* st = std::get_if<action::StateChanged>(&a)) {
                        if (st->state == State::online) {
                            std::lock_guard<std::mutex> lk(mu);
                            info = s.info();
                            send_limit.store(s.send_limit());
                        }
                        state.store(st->state);
                        post(StateEvent{st->state, st->error});
                    }
                }
            }
            socket_pending.store(conn.pending_output());
            held_requests.store(s.pending_requests() + reqs.size());
            if (s.state() == State::closed) {
                {
                    std::lock_guard<std::mutex> lk(mu);
                    io_ended = true; // message() refuses from now on: nobody would answer
                    for (auto& r : reqq) reqs.push_back(std::move(r));
                    reqq.clear();
                }
                start_requests(s, Clock::now(), /*stopping=*/true);
                held_requests.store(0); // the session answered its own
                break;
            }

            pollfd p[2] = {{wake.fd(), POLLIN, 0}, {conn.fd(), conn.events(), 0}};
            nfds_t n = conn.is_open() ? 2 : 1;
            auto deadline = s.next_deadline();
            int timeout = detail::poll_timeout(Clock::now(), deadline ? &*deadline : nullptr);
            int rc = ::poll(p, n, timeout);
            auto now = Clock::now();
            if (rc < 0 && errno != EINTR) {
                s.on_closed(now, detail::last_error());
                continue;
            }
            if (rc > 0 && (p[0].revents & POLLIN)) {
                frames.clear();
                if (take_stop_and_queue(frames)) {
                    s.close(now);
                    continue;
                }
                for (auto& f : frames) s.send_frame(now, std::move(f)); // dropped unless online
                if (rewinds_passed.load() == rewinds_posted) s.on_delivered(now, delivered.load());
                if (bool want = background.load(); want != bg) {
                    bg = want;
                    s.set_background(now, bg);
                }
            }
            // Also those taken while discovery ran (it consumed the wakeup).
            start_requests(s, now, /*stopping=*/false);
            if (rc > 0 && n == 2 && p[1].revents) {
                in.clear();
                const bool was_ready = conn.ready();
                auto r = conn.on_events(p[1].revents, in);
                if (r.became_ready) s.on_connected(now);
                if (!in.empty()) s.on_data(now, in.data(), in.size());
                if (r.error) {
                    if (was_ready || r.became_ready) s.on_closed(now, r.error);
                    else s.on_connect_failed(now, r.error);
                } else if (r.eof) {
                    s.on_closed(now, errc::connection_lost);
                }
            }
            s.on_tick(now);
        }
        conn.close();
        socket_pending.store(0);
    }

    // Connect action: discovery (if configured), else/then the address list.
    void open(Session& s, detail::Connection& conn, std::uint64_t attempt) {
        auto now = Clock::now();
        std::string addr;
        std::error_code ec;
        if (!cfg.discovery_url.empty()) {
            bool stopped = false;
            auto woken = [&] {
                std::deque<std::string> ignored; // nothing is sendable before online
                stopped = take_stop_and_queue(ignored);
                return stopped;
            };
            ec = detail::discover(cfg.discovery_url, now + cfg.connect_timeout, wake.fd(), woken, addr);
            if (stopped) {
                s.close(Clock::now());
                return;
            }
        }
        if (addr.empty()) {
            if (cfg.addresses.empty()) {
                s.on_connect_failed(Clock::now(), ec ? ec : make_error_code(errc::discovery_failed));
                return;
            }
            addr = cfg.addresses[attempt % cfg.addresses.size()];
        }
        if ((ec = conn.open(addr, tls, cfg.tls.server_name))) s.on_connect_failed(Clock::now(), ec);
    }

    std::error_code validate() {
        if (!wake.ok()) return detail::last_error();
        if (cfg.addresses.empty() && cfg.discovery_url.empty()) return errc::invalid_config;
        for (const auto& a : cfg.addresses) {
            detail::HostPort hp;
            if (detail::split_host_port(a, hp)) return errc::invalid_config;
        }
        if (!cfg.discovery_url.empty()) {
            detail::HttpUrl u;
            if (detail::parse_http_url(cfg.discovery_url, u)) return errc::invalid_config;
        }
        if (cfg.max_frame == 0 || cfg.heartbeat.count() <= 0 || cfg.heartbeat_timeout.count() <= 0 ||
            cfg.connect_timeout.count() <= 0 || cfg.request_timeout.count() <= 0)
            return errc::invalid_config;
        if (cfg.codec == Codec::protobuf && !protobuf_available()) return errc::protobuf_unavailable;
        if (cfg.tls.enabled) {
            if (!tls_available()) return errc::tls_unavailable;
            if (!tls) {
                if (auto ec = detail::make_tls_context(cfg.tls, tls)) return ec;
            }
        }
        return {};
    }
};

Client::Client(Config cfg) : impl_(std::make_shared<Impl>(std::move(cfg))) {}

Client::~Client() {
    Impl& im = *impl_;
    {
        std::lock_guard<std::mutex> life(im.life_mu);
        im.destroying = true;
    }
    close();
    {
        std::lock_guard<std::mutex> lk(im.dq_mu);
        im.dq_quit = true;
    }
    im.dq_cv.notify_one();
    if (im.disp.joinable()) {
        if (std::this_thread::get_id() == im.disp_id) {
            im.disp.detach(); // destroyed from a callback: it holds impl_ alive
        } else {
            im.disp.join();
        }
    }
}

void Client::on_message(MessageHandler h) {
    auto p = std::make_shared<const MessageHandler>(std::move(h));
    std::lock_guard<std::mutex> lk(impl_->cb_mu);
    impl_->on_msg = std::move(p);
}

void Client::on_state(StateHandler h) {
    auto p = std::make_shared<const StateHandler>(std::move(h));
    std::lock_guard<std::mutex> lk(impl_->cb_mu);
    impl_->on_st = std::move(p);
}

std::error_code Client::connect() {
    Impl& im = *impl_;
    std::lock_guard<std::mutex> life(im.life_mu);
    if (im.destroying) return errc::closed;
    if (im.io.joinable()) {
        if (im.state.load() != State::closed) return {}; // still running
        im.io.join(); // ended by a terminal code
    }
    if (auto ec = im.validate()) return ec;
    if (!im.disp.joinable()) {
        im.disp = std::thread([self = impl_] { self->dispatch(); });
        im.disp_id = im.disp.get_id();
    }
    {
        std::lock_guard<std::mutex> lk(im.mu);
        im.stop = false;
        im.io_ended = false;
        im.outq.clear();
        im.out_bytes = 0;
    }
    im.wake.drain();
    im.state.store(State::connecting);
    im.io = std::thread([self = impl_] { self->run(); });
    im.io_id = im.io.get_id();
    return {};
}

void Client::close() {
    Impl& im = *impl_;
    std::lock_guard<std::mutex> life(im.life_mu);
    if (!im.io.joinable()) return;
    {
        std::lock_guard<std::mutex> lk(im.mu);
        im.stop = true;
    }
    im.wake.signal();
    im.io.join(); // never called on the I/O thread: no user code runs there
}

std::error_code Client::send(std::string_view uri, std::string_view body) {
    Message m;
    m.uri = uri;
    m.body = body;
    return send(m);
}

std::error_code Client::send(const Message& m) {
    Impl& im = *impl_;
    if (im.state.load() != State::online) return errc::not_connected;
    std::string frame;
    if (auto ec = encode_upstream(im.cfg, im.send_limit.load(), m, frame)) return ec;
    {
        std::lock_guard<std::mutex> lk(im.mu);
        if (im.stop) return errc::closed;
        if (im.out_bytes + im.socket_pending.load() + frame.size() > im.cfg.max_queued_bytes)
            return errc::queue_full;
        im.out_bytes += frame.size();
        im.outq.push_back(std::move(frame));
    }
    im.wake.signal();
    return {};
}

std::error_code Client::message(std::string_view to, std::string_view body, std::string_view conversation,
                                MessageCallback done) {
    return request_message("to", to, body, conversation, std::move(done));
}

std::error_code Client::message_room(std::string_view room, std::string_view body,
                                     std::string_view conversation, MessageCallback done) {
    return request_message("room", room, body, conversation, std::move(done));
}

std::error_code Client::request_message(const char* key, std::string_view target, std::string_view body,
                                        std::string_view conversation, MessageCallback done) {
    Impl& im = *impl_;
    if (target.empty()) return errc::bad_request;
    // §13.6: connecting or reconnecting, the message waits for online.
    const State st = im.state.load();
    if (st == State::idle || st == State::closed) return errc::not_connected;
    Message m;
    m.uri = uri::message;
    try {
        nlohmann::json j = nlohmann::json::object();
        j[key] = std::string(target);
        j["body"] = std::string(body);
        if (!conversation.empty()) j["conversation"] = std::string(conversation);
        m.body = j.dump(); // throws on a string that is not UTF-8
    } catch (const nlohmann::json::exception&) {
        return errc::invalid_utf8;
    }
    std::string frame;
    // Before the first online the node's limit is not known yet: the
    // session checks again against it before writing.
    const std::uint32_t limit = im.send_limit.load();
    if (auto ec = encode_upstream(im.cfg, limit != 0 ? limit : im.cfg.max_frame, m, frame)) return ec;
    {
        std::lock_guard<std::mutex> lk(im.mu);
        if (im.stop || im.io_ended) return errc::closed;
        if (im.out_bytes + im.socket_pending.load() + frame.size() > im.cfg.max_queued_bytes)
            return errc::queue_full;
        if (st != State::online && im.reqq.size() + im.held_requests.load() >= im.cfg.max_waiting_requests)
            return errc::queue_full;
        im.reqq.push_back(Request{std::move(m), std::move(done)});
    }
    im.wake.signal();
    return {};
}

void Client::set_background(bool on) {
    impl_->background.store(on);
    impl_->wake.signal();
}

State Client::state() const noexcept { return impl_->state.load(); }

std::int64_t Client::last_seq() const noexcept { return impl_->delivered.load(); }

SessionInfo Client::info() const {
    std::lock_guard<std::mutex> lk(impl_->mu);
    return impl_->info;
}

} // namespace plex
