// Uses the installed headers and library: encode, decode, errors, a Client.
#include <iostream>

#include <plex/plex.hpp>

int main() {
    plex::Message m;
    m.uri = "/auth/server";
    m.body = "12345";
    std::string frame;
    if (auto ec = plex::append_frame(frame, plex::Order::big, plex::Codec::json, m)) {
        std::cerr << "encode: " << ec.message() << "\n";
        return 1;
    }
    plex::FrameDecoder d;
    d.feed(frame);
    std::string_view body;
    std::error_code ec;
    plex::Message out;
    if (!d.next(body, ec) || plex::decode(plex::Codec::json, body, out) || out != m) {
        std::cerr << "decode failed\n";
        return 1;
    }
    std::error_code terminal = plex::errc::auth_failed;
    plex::Client client(plex::Config{});
    if (client.connect() != plex::errc::invalid_config || terminal.message() != "auth failed") return 1;
    std::cout << "plex consumer ok: " << body << "\n";
    return 0;
}
