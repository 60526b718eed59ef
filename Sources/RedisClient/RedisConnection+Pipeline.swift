extension RedisConnection {
    /// Sends `commands` in one write and reads their replies in order (pipelining): one round trip
    /// for the whole batch instead of one per command. Error replies come back as `.error` in
    /// their slot (use `.checked()`); I/O and protocol failures throw and break the connection;
    /// after a reply timeout (`.io`) drop the connection, since late replies may still arrive.
    ///
    /// - Parameter replyTimeout: seconds each reply may take before the call fails with `.io`.
    /// Same threading rule as `command(_:)`: one thread at a time.
    public func pipeline(_ commands: [[String]], replyTimeout: Double = 10) throws(RedisError) -> [RedisReply] {
        if commands.isEmpty { return [] }
        for args in commands { try append(args) }
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
                // The caller must drop the connection: replies may still be in flight.
                throw .io("no reply within \(replyTimeout) s (pipeline of \(commands.count) commands)")
            }
        }
        return replies
    }
}
