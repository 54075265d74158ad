// A command-line sample for macOS: `swift run plex-sample [host:port] [token]`
// (after build-xcframework.sh). It connects, prints every event, echoes one
// message upstream once online, and exits on Ctrl-C. Try it against
// `go run ./cmd/plexd -upstream echo` and push with the curl line plexd prints.

import Foundation
import Plex

final class Printer: PlexClientDelegate {
    func plexClient(_ client: PlexClient, didChange state: PlexState, code: Int, reason: String, delay: TimeInterval) {
        print("\(state)" + (code != 0 ? " \(code)" : "") + (reason.isEmpty ? "" : ": \(reason)")
              + (delay > 0 ? String(format: " (next attempt in %.1f s)", delay) : ""))
        if state == .online {
            DispatchQueue.global().async { // send blocks: not on the delegate queue
                do { try client.send("/echo", body: Data("hello from Swift".utf8)) } catch { print("send: \(error)") }
            }
        }
        if state == .closed { exit(code == 0 ? 0 : 1) } // 4001: the token was refused
    }

    func plexClient(_ client: PlexClient, didReceive uri: String, body: Data, seq: Int64) {
        print("\(uri) \(String(decoding: body, as: UTF8.self))" + (seq > 0 ? " #\(seq)" : ""))
    }
}

let args = CommandLine.arguments
var cfg = PlexConfig()
cfg.addresses = [args.count > 1 ? args[1] : "127.0.0.1:9578"]
cfg.token = args.count > 2 ? args[2] : "alice" // plexd -auth none: the token is the uid
cfg.device = "plex-sample"
let printer = Printer()
do {
    let plex = try PlexClient(config: cfg)
    plex.delegate = printer
    plex.setLogger { level, line in FileHandle.standardError.write(Data("plex[\(level)] \(line)\n".utf8)) }
    try plex.connect()
    signal(SIGINT) { _ in exit(0) }
    dispatchMain() // the delegate queue is the main queue
} catch {
    print("cannot start: \(error)")
    exit(1)
}
