import DequeModule
import Transport

/// One WebSocket connection on the service thread: its protocol machine, its bounded send queue,
/// a partially received message and a pending close. Owned by `Gateway.connections`.
final class Connection {
    let wsi: WSI
    let machine: SessionMachine
    /// Live frames of topics whose replay is still running, by topic (appended in place).
    var held: [String: [SharedFrame]] = [:]
    /// Frames waiting for the socket, oldest first; never longer than `SessionLimits.sendQueueMax`.
    var queue = Deque<SharedFrame>()
    /// Fragments of a message not yet complete.
    var partial: [UInt8] = []
    /// Set when the connection must close at its next writable callback (not before `closeAt`).
    var pendingClose: (code: CloseCode, reason: String)?
    /// Earliest time to send the close frame: a flooding client gets a moment to stop sending,
    /// so closing does not reset the TCP connection under the frames still on their way to it.
    var closeAt = 0.0
    /// True once the client has been told it lags, until its queue drains.
    var warnedLagging = false
    /// When the queue first went over `send_queue_max` in the current episode of lag.
    var laggingSince: Double?
    /// True while a writable callback has been requested and not yet served.
    var writeRequested = false
    /// True while the connection is in `Gateway.staged`: fan-out added frames and writes them
    /// itself once the whole bridge batch is queued (`flushStaged`).
    var staged = false
    /// A write outside the writable callback failed: the next writable callback closes.
    var writeFailed = false
    /// Extra queue room granted for a replay just enqueued (bounded by `redis.replay_max`);
    /// shrinks as frames are written, so live events after a big replay do not trip the limit.
    var replayAllowance = 0
    /// Counted in `active_connections` (authenticated).
    var counted = false

    init(wsi: WSI, machine: SessionMachine) {
        self.wsi = wsi
        self.machine = machine
    }
}

/// Subscribers and stream position of one topic on this gateway.
final class TopicHub {
    /// Connections subscribed (in any state), by handle.
    var subscribers: [WSI: Connection] = [:]
    /// The subscribers receiving live events, as a plain array: fan-out walks it with no lookup.
    private(set) var live: ContiguousArray<Connection> = []
    /// Subscribers whose replay is running (they hold live events until it lands).
    var replaying: [WSI: Connection] = [:]

    /// Move a subscriber to the live list.
    func goLive(_ connection: Connection) {
        replaying[connection.wsi] = nil
        if !live.contains(where: { $0 === connection }) { live.append(connection) }
    }

    /// Forget a subscriber in every state.
    func remove(_ connection: Connection) {
        subscribers[connection.wsi] = nil
        replaying[connection.wsi] = nil
        if let i = live.firstIndex(where: { $0 === connection }) { live.swapAt(i, live.count - 1); live.removeLast() }
    }
    /// Newest stream id handed to subscribers; nil while the bridge resolves it.
    var position: String?
    /// True while the bridge has the topic activated.
    var activated = false
}
