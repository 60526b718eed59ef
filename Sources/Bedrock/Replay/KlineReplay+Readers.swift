import Foundation
import RedisClient

extension KlineReplay {
    /// What one run knows about the stream's consumer groups (the live engine's `<prefix>engine`):
    /// each group's last `entries-read` and when it last moved.
    struct ReaderWatch {
        var progress: [String: (read: Int64, since: ContinuousClock.Instant)] = [:]
        /// Groups that stopped reading for `stallSeconds`: no longer waited for in this run.
        var stalled: Set<String> = []
    }

    /// How many entries may be appended now without trimming one that a consumer group of the
    /// stream has not read yet: `maxLength − (largest group lag) − batchSize` (a batch of margin
    /// for entries a reader has taken but not finished), `Int.max` when the stream has no group.
    /// `MAXLEN ~` never trims below `maxLength`, so a group less than that far behind loses
    /// nothing. A group with no consumer moving for `stallSeconds` (no gateway running, a group
    /// left by an earlier one) is not waited for again in this run; a group whose lag Redis
    /// cannot tell (`lag` nil, e.g. before its first read) is not waited for.
    func readerRoom(_ watch: inout ReaderWatch, maxLength: Int) throws(RedisError) -> Int {
        let reply = try connection.command(["XINFO", "GROUPS", streamKey])
        if case .error(let message) = reply, message.contains("no such key") { return .max }
        guard let groups = try reply.checked().array else { throw .unexpectedReply("XINFO GROUPS answered \(reply)") }
        let now = ContinuousClock.now
        var behind = 0
        for group in groups {
            var fields: [String: RedisReply] = [:]
            let list = group.array ?? []
            var i = 0
            while i + 1 < list.count {
                if let name = list[i].string { fields[name] = list[i + 1] }
                i += 2
            }
            guard let name = fields["name"]?.string, !watch.stalled.contains(name),
                let lag = fields["lag"]?.integer, lag > 0
            else { continue }
            let read = fields["entries-read"]?.integer ?? 0
            if let last = watch.progress[name], last.read == read {
                if now - last.since > .milliseconds(Int64(stallSeconds * 1000)) {
                    watch.stalled.insert(name)
                    continue
                }
            } else {
                watch.progress[name] = (read, now)
            }
            behind = Swift.max(behind, Int(lag))
        }
        return behind == 0 ? .max : maxLength - behind - Swift.max(batchSize, 1)
    }
}
