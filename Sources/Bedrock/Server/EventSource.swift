/// The Redis side as the gateway sees it: topics to bridge, replays, and where events go.
/// Implemented over `StreamBridge`/`StreamReplay` by `RedisEventSource`; a test double can stand in.
protocol EventSource: AnyObject, Sendable {
    /// Start bridging `topic`; `completion` gets the newest stream id at that moment (events after
    /// it will follow through the sink). Called on the service thread; must not block.
    func activate(topic: String, completion: @escaping @Sendable (String) -> Void)
    /// Stop bridging `topic` (no subscribers left). Must not block.
    func deactivate(topic: String)
    /// Fetch (since, upTo] off the service thread; `recovered` false means nothing is returned.
    func replay(
        topic: String, since: String, upTo: String,
        completion: @escaping @Sendable (Result<ReplayBatch, Error>) -> Void)
    /// Whether Redis answered lately (for `/ready`).
    var isUp: Bool { get }
    /// Stop threads and close connections.
    func shutdown()
}

/// The answer to a replay: the frames of the entries after `since`, in order.
struct ReplayBatch: Sendable {
    var entries: [(id: String, frame: [UInt8])]
    var recovered: Bool
}
