import RedisClient
import Synchronization

/// What `presence.get` reads, kept between calls: each live gateway's summary with the version it
/// was published as, and the merge of all of them. A call asks Redis only for the live gateways
/// and their versions, fetches and parses just the summaries that changed, and merges again only
/// when one did: ten thousand idle connections cost a version check, not a parse. Any API
/// worker; the lock is held for lookups and stores only, never across Redis I/O or parsing.
final class PresenceCache: Sendable {
    private struct State {
        var summaries: [String: (version: String, summary: PresenceSummary)] = [:]
        /// The merged view and the `gateway=version` list it was made from.
        var merged: (signature: [String], summary: PresenceSummary)?
    }

    private let state = Mutex(State())
    private let store: PresenceStore

    /// A cache reading `store`'s keys.
    init(store: PresenceStore) { self.store = store }

    /// Every live gateway's connections merged, and how many gateways that is.
    func read(nowMillis: Int64, on redis: RedisConnection) throws -> (summary: PresenceSummary, gateways: Int) {
        let live = try store.liveVersions(nowMillis: nowMillis, on: redis)
        let signature = live.map { "\($0.gateway)=\($0.version)" }.sorted()
        if let merged = state.withLock({ $0.merged }), merged.signature == signature {
            return (merged.summary, live.count)
        }
        let known = state.withLock { $0.summaries }
        var current: [String: (version: String, summary: PresenceSummary)] = [:]
        var signed: [String] = []
        for (gateway, version) in live {
            if let cached = known[gateway], cached.version == version {
                current[gateway] = cached
            } else if let fresh = try store.summary(of: gateway, on: redis) {
                current[gateway] = fresh
            } else {
                continue  // expired between the two reads
            }
            signed.append("\(gateway)=\(current[gateway]!.version)")
        }
        var merged = PresenceSummary()
        for entry in current.values { merged.merge(entry.summary) }
        let result = merged
        state.withLock { $0 = State(summaries: current, merged: (signed.sorted(), result)) }
        return (result, current.count)
    }
}
