// An iOS SwiftUI app using the Plex package. Not built by the package: create
// an iOS App in Xcode, add sdk/ios as a local package dependency (product
// "Plex"), and replace the generated App file with this one. Point
// `address` at a node the device can reach (the simulator shares the Mac's
// loopback: run `go run ./cmd/plexd -upstream echo` on the Mac).

import Plex
import SwiftUI
import UIKit

final class PlexModel: ObservableObject, PlexClientDelegate {
    @Published var lines: [String] = []
    @Published var state: PlexState = .idle
    private var plex: PlexClient?

    init(address: String = "127.0.0.1:9578", token: String = "alice") {
        var cfg = PlexConfig()
        cfg.addresses = [address]
        cfg.token = token
        cfg.device = UIDevice.current.identifierForVendor?.uuidString ?? "simulator"
        cfg.lastSeq = Int64(UserDefaults.standard.integer(forKey: "plexLastSeq"))
        cfg.backgroundPolicy = .disconnect // APNs covers the background (.slowHeartbeat to stay connected)
        do {
            let p = try PlexClient(config: cfg) // delegate on the main queue
            p.delegate = self
            try p.connect()
            plex = p
        } catch {
            lines.append("cannot start: \(error)")
        }
    }

    func plexClient(_ client: PlexClient, didChange state: PlexState, code: Int, reason: String, delay: TimeInterval) {
        self.state = state // .connecting, .online, .reconnecting, .suspended, .closed (4001: token refused)
        lines.append("\(state)" + (code != 0 ? " \(code)" : "") + (reason.isEmpty ? "" : " \(reason)")
                     + (delay > 0 ? String(format: " (next attempt in %.1f s)", delay) : ""))
    }

    func plexClient(_ client: PlexClient, didReceive uri: String, body: Data, seq: Int64) {
        lines.append("\(uri) \(String(decoding: body, as: UTF8.self))" + (seq > 0 ? " #\(seq)" : ""))
    }

    func send(_ text: String) {
        DispatchQueue.global().async { [weak self] in // send blocks: never on the main thread
            do { try self?.plex?.send("/echo", body: Data(text.utf8)) } catch {
                DispatchQueue.main.async { self?.lines.append("send: \(error)") }
            }
        }
    }

    func phase(_ phase: ScenePhase) {
        guard let plex = plex else { return }
        switch phase {
        case .active: plex.enterForeground()
        case .background:
            plex.enterBackground()
            UserDefaults.standard.set(Int(plex.lastSeq), forKey: "plexLastSeq")
        default: break
        }
    }
}

@main
struct PlexSampleApp: App {
    @StateObject private var model = PlexModel()
    @Environment(\.scenePhase) private var scenePhase

    var body: some Scene {
        WindowGroup {
            VStack(alignment: .leading) {
                Text("plex: \(String(describing: model.state))").font(.headline)
                Button("Send hello") { model.send("hello from iOS") }
                List(model.lines.indices, id: \.self) { Text(model.lines[$0]) }
            }
            .padding()
        }
        .onChange(of: scenePhase) { model.phase($0) }
    }
}
