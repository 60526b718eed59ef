import Synchronization

/// A Redis master watched by Redis Sentinel: the Sentinels to ask, the master's name in their
/// configuration, and what the connections resolved so far have seen (shared by every copy).
///
/// Two services are equal when they name the same Sentinels, master and Sentinel password; the
/// shared `watch` is not compared.
public struct SentinelService: Sendable, Equatable, CustomStringConvertible {
    /// One Sentinel's TCP address.
    public struct Node: Sendable, Equatable, CustomStringConvertible {
        /// Host name or IP address.
        public var host: String
        /// TCP port (Sentinel's default is 26379).
        public var port: Int

        /// A Sentinel at `host:port`.
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// `host:port` (IPv6 in brackets).
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// The Sentinels, asked in this order (the one that answered last goes first).
    public let sentinels: [Node]
    /// The monitored master's name (`sentinel monitor <name> …`).
    public let masterName: String
    /// Sent with `AUTH` to each Sentinel when not nil (`requirepass` of the Sentinels).
    public let sentinelPassword: String?
    /// What connections to this service have found; one object shared by all copies.
    public let watch: SentinelWatch

    /// A service; `sentinels` must not be empty.
    public init(sentinels: [Node], masterName: String, sentinelPassword: String? = nil) {
        precondition(!sentinels.isEmpty, "a Sentinel service needs at least one Sentinel")
        self.sentinels = sentinels
        self.masterName = masterName
        self.sentinelPassword = sentinelPassword
        self.watch = SentinelWatch()
    }

    /// `sentinel:<master>@h1:p1,h2:p2`; never shows the password.
    public var description: String {
        "sentinel:\(masterName)@" + sentinels.map(\.description).joined(separator: ",")
    }

    public static func == (a: SentinelService, b: SentinelService) -> Bool {
        a.sentinels == b.sentinels && a.masterName == b.masterName && a.sentinelPassword == b.sentinelPassword
    }
}

/// The master a Sentinel service's connections last reached, and how often that changed: the
/// source of `bedrock_redis_failovers_total` and `bedrock_redis_master_info`. Any thread.
public final class SentinelWatch: Sendable {
    private struct State {
        var master: SentinelService.Node?
        var failovers: UInt64 = 0
        /// Index of the Sentinel that answered last: asked first next time.
        var preferred = 0
    }

    private let state = Mutex(State())

    /// An empty watch (no master seen yet).
    public init() {}

    /// The master the newest connection reached, nil before the first.
    public var master: SentinelService.Node? { state.withLock { $0.master } }

    /// Times a new connection reached a master other than the one before it.
    public var failovers: UInt64 { state.withLock { $0.failovers } }

    /// Records that a connection reached `master` after asking Sentinel number `sentinel`.
    func reached(_ master: SentinelService.Node, askingSentinel sentinel: Int) {
        state.withLock { s in
            if let known = s.master, known != master { s.failovers += 1 }
            s.master = master
            s.preferred = sentinel
        }
    }

    /// Sentinel indexes in the order to ask them: the last one that answered first.
    func order(count: Int) -> [Int] {
        let first = state.withLock { $0.preferred } % max(1, count)
        return (0..<count).map { (first + $0) % count }
    }
}
