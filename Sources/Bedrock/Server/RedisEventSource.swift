import Dispatch
import Foundation
import RedisClient

/// `EventSource` over Redis: the `StreamBridge` reader thread for live events, and a small pool
/// of replay workers, each with its own connection, so the service thread never waits on Redis.
///
/// The users' own streams (`user:<sub>`, one per subscribed user) go through a second
/// `StreamBridge` (`users`): a reader's wake-up costs time in the number of streams it waits on
/// (each `XREAD` names them all: ~1 ms with 1,000 streams, ~10 ms with 10,000 here), and user
/// events are rare, so thousands of connected users never slow the shared topics' events.
final class RedisEventSource: EventSource, @unchecked Sendable {
    // Sound: `bridge`, `users`, `pubsub`, `replays` and `connections` are thread-safe by design;
    // the rest is immutable.
    private let bridge: StreamBridge
    private let users: StreamBridge
    private let pubsub: PubSubBridge
    private let address: RedisAddress
    private let prefix: String
    private let replayMax: Int
    /// Threads running replays (they block on Redis), each borrowing a connection of `connections`.
    private let replays: WorkerPool
    private let connections: RedisPool

    /// `deliver` receives live batches on the reader thread; `status` Redis up/down changes. The
    /// bridges' counters are published into `metrics` when it is scraped.
    init(
        address: RedisAddress, prefix: String, replayMax: Int, channels: [String: String] = [:], metrics: MetricsRegistry,
        workerCount: Int = 2,
        deliver: @escaping @Sendable ([BridgedEvent]) -> Void,
        status: @escaping @Sendable (Bool) -> Void
    ) {
        self.address = address
        self.prefix = prefix
        self.replayMax = replayMax
        bridge = StreamBridge(
            address: address, options: .init(prefix: prefix, maxBackoff: Self.maxBackoff(address)), sink: deliver,
            statusChanged: status)
        users = StreamBridge(
            address: address, options: .init(prefix: prefix, maxBackoff: Self.maxBackoff(address)), sink: deliver)
        replays = WorkerPool(threads: max(1, workerCount), name: "bedrock-replay")
        connections = RedisPool(address: address, maxIdle: max(1, workerCount))
        pubsub = PubSubBridge(address: address, channels: channels, sink: deliver)
        bridge.start()
        users.start()
        pubsub.start()
        let counters = UncheckedBox(BridgeCounters(registry: metrics))
        metrics.onScrape { [bridge, users, pubsub] in
            counters.value.publish(stream: bridge.stats(), users: users.stats(), channels: pubsub.stats())
        }
    }

    /// The stream reader's reconnect backoff cap: 0.5 s behind Sentinel, where an attempt is a
    /// question to a Sentinel and one connect, so events flow again within about half a second
    /// of the promotion; the bridge's default (2 s) otherwise.
    static func maxBackoff(_ address: RedisAddress) -> Double {
        if case .sentinel = address.transport { return 0.5 }
        return StreamBridge.Options().maxBackoff
    }

    func activate(topic: String, completion: @escaping @Sendable (String) -> Void) {
        reader(of: topic).activate(topic: topic, completion: completion)
    }

    func deactivate(topic: String) { reader(of: topic).deactivate(topic: topic) }

    /// The bridge that reads `topic`: `users` for a user's stream, else the shared topics' one.
    private func reader(of topic: String) -> StreamBridge { topic.hasPrefix("user:") ? users : bridge }

    func replay(
        topic: String, since: String, upTo: String,
        completion: @escaping @Sendable (Result<ReplayBatch, Error>) -> Void
    ) {
        let prefix = self.prefix, max = replayMax, connections = self.connections
        replays.submit {
            completion(
                Result {
                    try connections.with { connection in
                        let result = try StreamReplay.replay(
                            connection, topic: topic, after: since, upTo: upTo,
                            max: max, prefix: prefix)
                        return ReplayBatch(
                            entries: result.entries.map { (id: $0.id ?? "", frame: $0.frame) },
                            recovered: result.recovered)
                    }
                })
        }
    }

    var isUp: Bool { bridge.isUp }

    func shutdown() {
        pubsub.stop()
        users.stop()
        bridge.stop()
    }
}

/// The bridges' own counters in the registry (`bedrock_bridge_*`), brought up to the bridges'
/// totals at each scrape (scrapes run one at a time).
final class BridgeCounters {
    private var malformed: CounterMirror
    private var reconnects: CounterMirror
    private var gaps: CounterMirror

    init(registry: MetricsRegistry) {
        malformed = CounterMirror(
            registry.counter(
                "bedrock_bridge_malformed_events_total",
                help: "Bridged entries skipped because they were not valid JSON."))
        reconnects = CounterMirror(
            registry.counter(
                "bedrock_bridge_reconnects_total",
                help: "Times the stream reader reconnected to Redis."))
        gaps = CounterMirror(
            registry.counter(
                "bedrock_bridge_gaps_total",
                help: "Holes announced with a gap frame: stream entries trimmed before the bridge read them."))
    }

    func publish(stream: StreamBridge.Stats, users: StreamBridge.Stats, channels: PubSubBridge.Stats) {
        malformed.publish(Int64(stream.malformedEvents + users.malformedEvents + channels.malformedEvents))
        reconnects.publish(Int64(stream.reconnects))
        gaps.publish(Int64(stream.gaps + users.gaps))
    }
}
