import RedisClient

/// Pipelining with a second batch in flight: `send` queues and writes a batch without waiting,
/// `receive` reads the replies of the oldest batch sent. Sending batch k+1 before reading the
/// replies of batch k lets Redis work on one batch while this process handles the other, instead
/// of each waiting for the other in turn (what `RedisConnection.pipeline` does per call).
///
/// Any failure leaves replies owed on the connection: do not use it for anything but closing.
/// Used by one thread at a time.
struct PipelineWindow {
    let connection: RedisConnection
    /// Seconds each reply may take.
    var replyTimeout = 30.0
    private var inFlight: [Int] = []

    init(_ connection: RedisConnection) { self.connection = connection }

    /// Batches sent whose replies are not read yet.
    var pending: Int { inFlight.count }

    /// Writes `commands` to the socket; their replies are read by a later `receive`.
    mutating func send(_ commands: [[[UInt8]]]) throws {
        for args in commands { try connection.append(binary: args) }
        try connection.flush()
        inFlight.append(commands.count)
    }

    /// The replies of the oldest batch sent, in order.
    mutating func receive() throws -> [RedisReply] {
        let count = inFlight.removeFirst()
        var replies: [RedisReply] = []
        replies.reserveCapacity(count)
        let clock = ContinuousClock()
        var deadline = clock.now + .milliseconds(Int64(replyTimeout * 1000))
        while replies.count < count {
            if let reply = try connection.nextReply(timeoutMillis: 100) {
                replies.append(reply)
                deadline = clock.now + .milliseconds(Int64(replyTimeout * 1000))
            } else if clock.now >= deadline {
                throw BackupRedisError("no reply from Redis within \(Int(replyTimeout)) s")
            }
        }
        return replies
    }
}
