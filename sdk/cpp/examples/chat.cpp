// plex_chat: connects to a plex node, prints every message it receives and
// sends each line of standard input as an upstream message on /chat.
//
//   plex_chat 127.0.0.1:9578 alice                 # dial an address
//   plex_chat http://127.0.0.1:9579 alice          # ask GET /plex/v1/host first
//
// With plexd -upstream echo, every line comes back.
#include <iostream>
#include <string>

#include <plex/client.hpp>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: plex_chat <host:port | http://discovery> <token>\n";
        return 2;
    }
    plex::Config cfg;
    std::string where = argv[1];
    if (where.rfind("http://", 0) == 0) cfg.discovery_url = where;
    else cfg.addresses = {where};
    cfg.token = argv[2];
    cfg.device_id = "plex_chat";

    plex::Client client(cfg);
    client.on_state([](plex::State s, std::error_code ec) {
        std::cerr << "state: " << plex::to_string(s);
        if (ec) std::cerr << " (" << ec.message() << ")";
        std::cerr << "\n";
    });
    client.on_message([](const plex::Message& m) {
        std::cout << "[" << m.seq << "] " << m.uri << ": " << m.body << std::endl;
    });
    if (auto ec = client.connect()) {
        std::cerr << "connect: " << ec.message() << "\n";
        return 1;
    }
    for (std::string line; std::getline(std::cin, line);) {
        if (auto ec = client.send("/chat", line)) std::cerr << "send: " << ec.message() << "\n";
    }
    client.close(); // also done by the destructor
    return 0;
}
