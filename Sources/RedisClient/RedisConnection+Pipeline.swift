extension RedisConnection {
    /// Sends `commands` in one write and reads their replies in order (pipelining): one round trip
    /// for the whole batch instead of one per command. Error replies come back as `.error` in
    /// their slot (use `.checked()`); any failure (I/O, protocol, no time left before the call's
    /// deadline, a reply timeout) throws and breaks the connection, since queued commands or
    /// late replies would otherwise answer the next command on it.
    ///
    /// - Parameter replyTimeout: seconds each reply may take before the call fails with `.io`.
    /// Same threading rule as `command(_:)`: one thread at a time.
    public func pipeline(_ commands: [[String]], replyTimeout: Double = 10) throws(RedisError) -> [RedisReply] {
        try pipeline(binary: commands.map { $0.map { Array($0.utf8) } }, replyTimeout: replyTimeout)
    }

    /// Binary-safe variant of `pipeline(_:replyTimeout:)`: each argument is sent byte for byte.
    public func pipeline(binary commands: [[[UInt8]]], replyTimeout: Double = 10) throws(RedisError) -> [RedisReply] {
        if commands.isEmpty { return [] }
        do {
            return try pipelineReplies(commands, replyTimeout: replyTimeout)
        } catch {
            abandon()
            throw error
        }
    }

    private func pipelineReplies(_ commands: [[[UInt8]]], replyTimeout: Double) throws(RedisError) -> [RedisReply] {
        for args in commands { try append(binary: args) }
        try flush()
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        let clock = ContinuousClock()
        var deadline = clock.now + .milliseconds(Int64(replyTimeout * 1000))
        while replies.count < commands.count {
            // `nextReply` returns nil when no complete reply is buffered yet (a partial read, a
            // signal, or the wait ran out): keep reading until this reply's deadline.
            if let reply = try nextReply(timeoutMillis: 100) {
                replies.append(reply)
                deadline = clock.now + .milliseconds(Int64(replyTimeout * 1000))
            } else if clock.now >= deadline {
                // Replies may still be in flight: the connection is abandoned above.
                throw .io("no reply within \(replyTimeout) s (pipeline of \(commands.count) commands)")
            }
        }
        return replies
    }
}
