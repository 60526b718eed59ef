import JWTAuth
import Synchronization

/// One authenticated connection's place in the book: its loop and its serial number there.
struct PresenceKey: Hashable, Sendable {
    let loop: Int
    let serial: UInt64
}

/// Who is connected to this gateway, across all its service loops: each authenticated
/// connection's `sub`, role, when it connected and which topics it holds, plus the per-user
/// connection limit (`server.max_connections_per_user`, counted over every loop).
///
/// The loops write to it on their own threads (once per authentication, subscribe, unsubscribe
/// and close; never per frame) under one `Mutex`; the presence writer thread (`SessionControl`)
/// reads a `summary()` and publishes it to Redis, so no loop ever does Redis I/O for presence.
/// `/metrics` reads `metricsSample()`.
final class PresenceBook: Sendable {
    /// What the book holds for one connection.
    struct Entry: Sendable, Equatable {
        var sub: String
        var role: Role
        /// Wall time it authenticated, milliseconds since the epoch.
        var sinceMillis: Int64
        /// Wire topic names it is subscribed to.
        var topics: Set<String> = []
    }

    fileprivate struct State {
        var entries: [PresenceKey: Entry] = [:]
        var perUser: [String: Int] = [:]
        /// Subscribed connections by wire topic name; a topic leaves at zero.
        var perTopic: [String: Int] = [:]
        /// Metric topic names (`klines:*` collapsed) ever seen, so a gauge falls back to 0.
        var metricTopics: Set<String> = []
        /// Bumped on every change: the writer publishes only when it moved.
        var version: UInt64 = 0
    }

    private let state = Mutex(State())
    /// `server.max_connections_per_user`.
    let maxPerUser: Int

    /// A book refusing a `sub`'s connection beyond `maxPerUser`.
    init(maxPerUser: Int) { self.maxPerUser = max(1, maxPerUser) }

    /// Whether `sub` may open one more connection now (the upgrade's early check; `opened`
    /// decides for good).
    func admits(_ sub: String) -> Bool { state.withLock { $0.perUser[sub, default: 0] < maxPerUser } }

    /// A connection authenticated: counted unless its `sub` already holds `maxPerUser`
    /// connections (then false, and the caller closes it with 4429).
    func opened(_ key: PresenceKey, sub: String, role: Role, sinceMillis: Int64) -> Bool {
        state.withLock {
            guard $0.entries[key] == nil else { return true }
            let held = $0.perUser[sub, default: 0]
            guard held < maxPerUser else { return false }
            $0.perUser[sub] = held + 1
            $0.entries[key] = Entry(sub: sub, role: role, sinceMillis: sinceMillis)
            $0.version &+= 1
            return true
        }
    }

    /// The connection's token was refreshed with `role` (the `sub` never changes on a refresh).
    func reauthenticated(_ key: PresenceKey, role: Role) {
        state.withLock {
            guard let held = $0.entries[key]?.role, held != role else { return }
            $0.entries[key]!.role = role
            $0.version &+= 1
        }
    }

    /// The connection subscribed to `topic` (a wire name).
    func subscribed(_ key: PresenceKey, topic: String) {
        state.withLock {
            guard $0.entries[key] != nil, $0.entries[key]!.topics.insert(topic).inserted else { return }
            $0.perTopic[topic, default: 0] += 1
            $0.metricTopics.insert(PresenceBook.metricTopic(topic))
            $0.version &+= 1
        }
    }

    /// The connection no longer holds `topic`.
    func unsubscribed(_ key: PresenceKey, topic: String) {
        state.withLock {
            guard $0.entries[key]?.topics.remove(topic) != nil else { return }
            $0.dropTopic(topic)
            $0.version &+= 1
        }
    }

    /// The connection closed (nothing happens for one the book never counted).
    func closed(_ key: PresenceKey) {
        state.withLock {
            guard let entry = $0.entries.removeValue(forKey: key) else { return }
            for topic in entry.topics { $0.dropTopic(topic) }
            let held = $0.perUser[entry.sub, default: 1]
            $0.perUser[entry.sub] = held > 1 ? held - 1 : nil
            $0.version &+= 1
        }
    }

    /// Changes so far (the writer compares it with the version it last published).
    var version: UInt64 { state.withLock { $0.version } }

    /// Connections `sub` holds on this gateway.
    func connections(of sub: String) -> Int { state.withLock { $0.perUser[sub, default: 0] } }

    /// This gateway's connections grouped by user and by topic, as the writer publishes them.
    /// Every `klines:MARKET:INTERVAL` topic counts as `klines` (as in the metrics), so a
    /// connection adds at most one row per fixed topic name whatever topics it made up. The
    /// entries are copied under the lock and grouped after it, so the loops never wait on this.
    func summary() -> PresenceSummary {
        let entries = state.withLock { Array($0.entries.values) }
        var summary = PresenceSummary()
        for entry in entries {
            let topics = Set(entry.topics.lazy.map(PresenceBook.metricTopic))
            summary.add(sub: entry.sub, role: entry.role, sinceMillis: entry.sinceMillis, topics: topics)
        }
        return summary
    }

    /// What `/metrics` shows: subscribed connections per metric topic (`klines:*` collapsed;
    /// every topic seen so far, 0 when none holds it now) and the distinct users.
    func metricsSample() -> (topics: [String: Int], users: Int) {
        state.withLock { state in
            var topics = Dictionary(uniqueKeysWithValues: state.metricTopics.map { ($0, 0) })
            for (topic, count) in state.perTopic { topics[PresenceBook.metricTopic(topic), default: 0] += count }
            return (topics, state.perUser.count)
        }
    }

    /// The metric label of a wire topic: `klines:*` collapsed, as the other topic metrics do.
    static func metricTopic(_ topic: String) -> String { topic.hasPrefix("klines:") ? "klines" : topic }
}

extension PresenceBook.State {
    fileprivate mutating func dropTopic(_ topic: String) {
        let held = perTopic[topic, default: 1]
        perTopic[topic] = held > 1 ? held - 1 : nil
    }
}
