// A small Swift API over the gomobile-generated Objective-C classes of
// sdk/mobile (module Plexmobile, api-snapshot/Plexmobile.objc.h). The Go side
// does the work: dial or discovery, auth, heartbeat, reconnect with backoff,
// acks and resume. See docs/ios.md.
//
// Not compiled in this repository's CI (no Xcode on Linux); the Objective-C
// API it calls is pinned by the snapshot check in sdk/ios/ci.sh.

import Foundation
import Plexmobile

/// Where a client's connection is: the states of docs/protocol.md §13.6
/// with its names, plus `.suspended` (background-disconnect). Raw values are
/// the SDK's state numbers (3 and 6, the removed `disconnected` and
/// `authFailed`, are never reused).
public enum PlexState: Int64 {
    /// `connect()` was not called yet.
    case idle = 0
    /// An attempt runs (dial, auth): after `connect()`, before every retry,
    /// and after a suspension.
    case connecting = 1
    /// Authenticated: pushes flow, `send` writes at once.
    case online = 2
    /// The connection ended, or an attempt failed, with a retryable cause:
    /// `code` is the node's 3xxx code (3000 shutdown, 3001 heartbeat
    /// timeout, ...) or 0 for a network error, `delay` the wait before the
    /// next attempt.
    case reconnecting = 4
    /// `enterBackground()` closed the connection (`.disconnect` policy
    /// only) until `enterForeground()`.
    case suspended = 5
    /// Final, always the last state: `close()` (code 0), or the node's
    /// terminal code: 4001 the token was refused (create a new client with a
    /// fresh one), 4002 replaced by a newer login of this device, ...
    case closed = 7

    /// The old name of `.online`.
    @available(*, deprecated, renamed: "online", message: "removed in the next release")
    public static let connected = PlexState.online
}

/// What `enterBackground()` does. `.keep` is the default (as in the Go SDK,
/// for compatibility); an app that stays connected in background should use
/// `.slowHeartbeat`.
public enum PlexBackgroundPolicy {
    /// Keep the connection at the normal heartbeat pace (iOS suspends the
    /// app soon anyway; the SDK notices the dead connection when it runs
    /// again and reconnects).
    case keep
    /// Close it until `enterForeground()`; persistent pushes that arrive in
    /// between are delivered on resume. Use with APNs for the background.
    case disconnect
    /// Keep the connection in the protocol's background mode: heartbeats
    /// at the node's background interval (5 minutes by default instead of
    /// 30 s), also across reconnects, until `enterForeground()`. No state
    /// change; pushes and `send` work as usual. Recommended for apps that
    /// stay connected in background (e.g. with a background mode that
    /// keeps them running); a node without background mode keeps the
    /// normal pace.
    case slowHeartbeat

    var objc: Int64 {
        switch self {
        case .keep: return PlexmobileBackgroundKeep
        case .disconnect: return PlexmobileBackgroundDisconnect
        case .slowHeartbeat: return PlexmobileBackgroundSlowHeartbeat
        }
    }
}

/// A client's configuration. Defaults match the Go SDK's (docs/ios.md).
public struct PlexConfig {
    /// Nodes' TCP addresses ("host:port"), tried round-robin.
    public var addresses: [String] = []
    /// A node's HTTP API; the SDK asks GET /plex/v1/host which node to dial.
    /// Used when `addresses` is empty.
    public var discoveryURL: URL?
    /// The app's credential; never logged.
    public var token: String = ""
    /// The app (tenant) to log in to, one the node serves beside its default app; "": the default app.
    public var app: String = ""
    /// A stable id of this installation (the node keeps one resume cursor per device).
    public var device: String = ""
    /// The highest persistent seq the app holds from an earlier run (`PlexClient.lastSeq`).
    public var lastSeq: Int64 = 0
    /// Turn acks off (the original plex contract). Default: acks and resume on.
    public var noAcks: Bool = false
    /// Little-endian frame headers (must match the node).
    public var littleEndian: Bool = false
    /// "json" (default) or "protobuf" (needed for non-UTF-8 bodies).
    public var codec: String = "json"
    /// Bounds of one connection attempt, the reconnect backoff and `send`; nil: the SDK's default.
    public var dialTimeout: TimeInterval?
    public var backoffMin: TimeInterval?
    public var backoffMax: TimeInterval?
    public var sendTimeout: TimeInterval?
    /// What `enterBackground()` does; `.slowHeartbeat` is recommended for
    /// apps that stay connected in background.
    public var backgroundPolicy: PlexBackgroundPolicy = .keep

    public init() {}

    func objc() -> PlexmobileConfig {
        let c = PlexmobileConfig()
        c.addrs = addresses.joined(separator: ",")
        c.discoveryURL = discoveryURL?.absoluteString ?? ""
        c.token = token
        c.app = app
        c.device = device
        c.lastSeq = lastSeq
        c.noAcks = noAcks
        c.littleEndian = littleEndian
        c.codec = codec
        c.dialTimeoutMs = PlexConfig.ms(dialTimeout)
        c.backoffMinMs = PlexConfig.ms(backoffMin)
        c.backoffMaxMs = PlexConfig.ms(backoffMax)
        c.sendTimeoutMs = PlexConfig.ms(sendTimeout)
        c.backgroundPolicy = backgroundPolicy.objc
        return c
    }

    private static func ms(_ t: TimeInterval?) -> Int64 {
        guard let t = t, t > 0 else { return 0 }
        return Int64((t * 1000).rounded())
    }
}

/// Receives a client's events, one at a time, in order, on the client's
/// delegate queue (the main queue by default). Every method has a default
/// that does nothing. A lost connection is `.reconnecting` with the code and
/// reason that ended it and the delay; a refused token is `.closed` with
/// code 4001. Exactly one `.closed` is the last state.
public protocol PlexClientDelegate: AnyObject {
    /// A push: `seq` > 0 for a persistent one (acknowledged to the node only
    /// after this returns; each arrives once, in seq order), 0 for a transient one.
    func plexClient(_ client: PlexClient, didReceive uri: String, body: Data, seq: Int64)
    /// The same push with its meta (protocol §9): the node's `id` and `ts`,
    /// `persist` for a persistent push, and the pusher's own keys. The
    /// default calls the method without meta; implement this one instead
    /// when you need the meta.
    func plexClient(_ client: PlexClient, didReceive uri: String, body: Data, seq: Int64, meta: [String: String])
    /// A state change, with the node's code that ended the connection (or 0) and a reason.
    func plexClient(_ client: PlexClient, didChange state: PlexState, code: Int, reason: String)
    /// The same with the wait before the next attempt (> 0 with
    /// `.reconnecting`, 0 otherwise). The default calls the method without
    /// `delay`; implement this one instead when you need it.
    func plexClient(_ client: PlexClient, didChange state: PlexState, code: Int, reason: String, delay: TimeInterval)
}

public extension PlexClientDelegate {
    func plexClient(_ client: PlexClient, didReceive uri: String, body: Data, seq: Int64) {}
    func plexClient(_ client: PlexClient, didReceive uri: String, body: Data, seq: Int64, meta: [String: String]) {
        plexClient(client, didReceive: uri, body: body, seq: seq)
    }
    func plexClient(_ client: PlexClient, didChange state: PlexState, code: Int, reason: String) {}
    func plexClient(_ client: PlexClient, didChange state: PlexState, code: Int, reason: String, delay: TimeInterval) {
        plexClient(client, didChange: state, code: code, reason: reason)
    }
}

/// An error from the SDK; `message` starts with its category
/// ("plexmobile: not connected", "plexmobile: send failed",
/// "plexmobile: message refused", "plexmobile: outcome unknown", ...).
public struct PlexError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
    /// The node's code (docs/protocol.md §13.2) when it refused a message
    /// (4003 not allowed, 4004 malformed, 4006 empty room, 4029 over a
    /// quota, 3005 not stored) or answered 3008; 0 otherwise.
    public var code: Int { Int(PlexmobileErrorCode(message)) }
    /// The failed message may have been delivered anyway (3008, or the
    /// reply was lost): sending it again may deliver it twice.
    public var isOutcomeUnknown: Bool { message.hasPrefix("plexmobile: outcome unknown") }

    init(_ error: Error?) {
        message = (error as NSError?)?.localizedDescription ?? "plexmobile: unknown error"
    }
}

/// What the node did with a message (its /reply, docs/protocol.md §8.1).
public struct PlexMessageResult: Equatable {
    /// The message id; every recipient's copy carries it in meta `id`.
    public let id: String
    /// To a user: the recipient's persistent seq; to a room: this user's
    /// own copy's (0 when not a member).
    public let seq: Int64
    /// Copies stored: 1 to a user, one per member to a room.
    public let stored: Int64
    /// Connections the copies were written to (for a room, this one not counted).
    public let delivered: Int64

    init(_ r: PlexmobileMessageResult) {
        id = r.messageID
        seq = r.seq
        stored = r.stored
        delivered = r.delivered
    }
}

/// An app's connection to plex.
///
///     var cfg = PlexConfig()
///     cfg.addresses = ["push.example.com:9578"]
///     cfg.token = token
///     cfg.device = installationID
///     cfg.lastSeq = Int64(UserDefaults.standard.integer(forKey: "plexLastSeq"))
///     let plex = try PlexClient(config: cfg)
///     plex.delegate = self
///     try plex.connect()
///
/// `send` and `message` block up to the send timeout: call them off the
/// main thread (or `try await` the async `message`). With a
/// delegate queue, the SDK thread waits until the delegate returned, so a
/// persistent push is acknowledged only once the app has handled it; `close`
/// never waits for the queue.
public final class PlexClient {
    public weak var delegate: PlexClientDelegate?

    private let client: PlexmobileClient
    private let bridge: Bridge
    private let queue: DispatchQueue?
    private let lock = NSLock()
    private var closing = false
    private var waiting: DispatchSemaphore?
    private var delivered: Int64

    /// - Parameter delegateQueue: where the delegate is called; nil means on
    ///   an SDK thread (never the main thread).
    public init(config: PlexConfig, delegateQueue: DispatchQueue? = .main) throws {
        var err: NSError?
        guard let c = PlexmobileNewClient(config.objc(), &err) else { throw PlexError(err) }
        client = c
        queue = delegateQueue
        delivered = config.lastSeq
        bridge = Bridge()
        bridge.owner = self
        do { try client.setListener(bridge) } catch { throw PlexError(error) }
    }

    deinit {
        try? client.close() // an abandoned client must not keep a connection open
    }

    /// Starts connecting and returns at once; the delegate reports progress.
    public func connect() throws {
        do { try client.connect() } catch { throw PlexError(error) }
    }

    /// Sends an upstream message; blocks while (re)connecting, up to the send timeout.
    public func send(_ uri: String, body: Data) throws {
        do { try client.send(uri, body: body) } catch { throw PlexError(error) }
    }

    /// Sends `text` to user `to` of the same app (/message, docs/protocol.md
    /// §8.1) and returns the node's answer. The recipient's delegate gets
    /// uri "/message" with meta `from` (this user, set by the node), `id`,
    /// `ts` and `conversation`; an offline recipient gets it on their next
    /// connection. Blocks until the node answers, up to the send timeout:
    /// call it off the main thread (or use the async form). A message a
    /// draining node did not answer before it closed the connection is sent
    /// again, once, on the next connection. Throws a `PlexError` whose
    /// `code` is the node's when it refused the message, and whose
    /// `isOutcomeUnknown` says it may have been delivered.
    public func message(to: String, text: String, conversation: String? = nil) throws -> PlexMessageResult {
        do {
            return PlexMessageResult(try client.message(to, body: Data(text.utf8), conversation: conversation ?? ""))
        } catch { throw PlexError(error) }
    }

    /// Sends `text` to every member of `room` (a group message): each
    /// member, this user included, gets its own stored copy with meta
    /// `room`; this connection does not receive it, this user's other
    /// devices do. Only members may message a room by default (4003).
    /// Blocking, errors and resending as for `message(to:text:)`.
    public func message(room: String, text: String, conversation: String? = nil) throws -> PlexMessageResult {
        do {
            return PlexMessageResult(try client.messageRoom(room, body: Data(text.utf8), conversation: conversation ?? ""))
        } catch { throw PlexError(error) }
    }

    /// `message(to:text:conversation:)` off the caller's thread.
    @available(iOS 13.0, macOS 10.15, *)
    public func message(to: String, text: String, conversation: String? = nil) async throws -> PlexMessageResult {
        try await offThread { try self.message(to: to, text: text, conversation: conversation) }
    }

    /// `message(room:text:conversation:)` off the caller's thread.
    @available(iOS 13.0, macOS 10.15, *)
    public func message(room: String, text: String, conversation: String? = nil) async throws -> PlexMessageResult {
        try await offThread { try self.message(room: room, text: text, conversation: conversation) }
    }

    @available(iOS 13.0, macOS 10.15, *)
    private func offThread<T>(_ f: @escaping () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { k in
            DispatchQueue.global(qos: .userInitiated).async { k.resume(with: Result { try f() }) }
        }
    }

    /// Call from the app's lifecycle (e.g. scenePhase .background / .active).
    /// What `enterBackground()` does is `PlexConfig.backgroundPolicy`;
    /// `enterForeground()` reconnects a suspended client, returns to the
    /// normal heartbeat pace after `.slowHeartbeat`, and redials at once a
    /// client waiting out a backoff.
    public func enterBackground() { try? client.enterBackground() }
    public func enterForeground() { try? client.enterForeground() }

    /// Sends the SDK's log lines to `log` (any thread); nil discards them.
    public func setLogger(_ log: ((Int64, String) -> Void)?) {
        try? client.setLogger(log.map { LogBridge($0) })
    }

    public var state: PlexState { PlexState(rawValue: client.state()) ?? .idle }

    /// The highest persistent seq the delegate has handled (or the config's
    /// lastSeq). Persist it and pass it back in `PlexConfig.lastSeq`.
    public var lastSeq: Int64 {
        lock.lock(); defer { lock.unlock() }
        return delivered
    }

    /// Disconnects for good; the delegate gets `.closed` last. Idempotent.
    public func close() {
        lock.lock()
        closing = true
        waiting?.signal()
        lock.unlock()
        try? client.close()
    }

    /// Runs `f` on the delegate queue and waits for it (or here, without a queue).
    private func dispatch(_ f: @escaping () -> Void) {
        guard let queue = queue else { f(); return }
        lock.lock()
        if closing {
            lock.unlock()
            queue.async(execute: f) // close() never waits for the queue
            return
        }
        let done = DispatchSemaphore(value: 0)
        waiting = done
        lock.unlock()
        queue.async { f(); done.signal() }
        done.wait() // signalled by f, or by close()
        lock.lock()
        waiting = nil
        lock.unlock()
    }

    fileprivate func onMessage(_ uri: String, _ body: Data, _ seq: Int64, _ meta: [String: String]) {
        dispatch { [weak self] in
            guard let self = self else { return }
            self.delegate?.plexClient(self, didReceive: uri, body: body, seq: seq, meta: meta)
            if seq > 0 {
                self.lock.lock()
                if seq > self.delivered { self.delivered = seq }
                self.lock.unlock()
            }
        }
    }

    fileprivate func onState(_ state: Int64, _ code: Int64, _ reason: String, _ delayMs: Int64) {
        dispatch { [weak self] in
            guard let self = self, let st = PlexState(rawValue: state) else { return }
            self.delegate?.plexClient(self, didChange: st, code: Int(code), reason: reason,
                                      delay: TimeInterval(delayMs) / 1000)
        }
        if state == PlexState.closed.rawValue {
            // The last event: drop the Go → Swift reference (gomobile cannot
            // collect a cycle that crosses the language boundary).
            try? client.setListener(nil)
        }
    }

    /// The binding's listener (PlexmobileListener). Holds its owner weakly:
    /// the Go side keeps the bridge alive, the app keeps the PlexClient.
    private final class Bridge: NSObject, PlexmobileListenerProtocol {
        weak var owner: PlexClient?

        func onMessage(_ uri: String?, body: Data?, seq: Int64, meta: PlexmobileMeta?) throws {
            var m: [String: String] = [:]
            if let meta = meta {
                for i in 0..<meta.len() {
                    let k = meta.key(i)
                    m[k] = meta.get(k)
                }
            }
            owner?.onMessage(uri ?? "", body ?? Data(), seq, m)
        }

        func onState(_ state: Int64, code: Int64, reason: String?, delayMs: Int64) throws {
            owner?.onState(state, code, reason ?? "", delayMs)
        }
    }

    private final class LogBridge: NSObject, PlexmobileLoggerProtocol {
        let f: (Int64, String) -> Void
        init(_ f: @escaping (Int64, String) -> Void) { self.f = f }
        func log(_ level: Int64, line: String?) { f(level, line ?? "") }
    }
}
