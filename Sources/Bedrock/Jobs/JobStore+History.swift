import Foundation
import RedisClient

/// The job history: pages of `<prefix>jobs:index` (every job) or `<prefix>jobs:owner:<sub>`
/// (one owner's), newest first.
extension JobStore {
    /// One page of an index.
    struct HistoryPage {
        /// Jobs in the index (of the kind asked for).
        var total: Int
        /// The page's jobs: task id and the `historyFields` present in its hash.
        var jobs: [(id: String, fields: [String: String])]
    }

    /// Hash fields a history row is built from.
    static let historyFields = ["kind", "status", "owner", "created_at", "finished_at", "progress", "summary", "metrics"]

    /// The page `offset ..< offset + limit` of the jobs of `owner` (nil: everyone's), newest
    /// first, only those of `kind` when given. One script: it first removes from that index the
    /// jobs whose hash has expired (only jobs created more than `ttl` ago can have: a hash
    /// expires `ttl` after its job finished), then counts and reads the page.
    func history(owner: String?, kind: JobKind?, offset: Int, limit: Int, on c: RedisConnection) throws -> HistoryPage {
        let cutoff = JobStore.nowMillis() - Int64(ttl) * 1000
        let idPrefix = kind.map(JobService.idPrefix) ?? ""
        let reply = try c.command(
            [
                "EVAL", JobStore.historyScript, "1", owner.map(ownerKey) ?? indexKey, prefix, String(cutoff), idPrefix,
                String(offset), String(limit),
            ] + JobStore.historyFields
        ).checked()
        let items = reply.array ?? []
        var page = HistoryPage(total: Int(items.first?.integer ?? 0), jobs: [])
        var i = 1
        while i + 1 < items.count {
            let id = items[i].string ?? ""
            var fields: [String: String] = [:]
            for (name, value) in zip(JobStore.historyFields, items[i + 1].array ?? []) {
                if let text = value.string { fields[name] = text }
            }
            // A hash gone some other way than expiry (deleted by hand) is left out of the page.
            if fields["status"] != nil { page.jobs.append((id, fields)) }
            i += 2
        }
        return page
    }

    private static let historyScript = """
        local prefix = ARGV[1]
        for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])) do
          if redis.call('EXISTS', prefix .. 'job:' .. id) == 0 then redis.call('ZREM', KEYS[1], id) end
        end
        local want, offset, limit = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
        local fields = {}
        for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
        local total, page = 0, {}
        if want == '' then
          total = redis.call('ZCARD', KEYS[1])
          page = redis.call('ZREVRANGE', KEYS[1], offset, offset + limit - 1)
        else
          for _, id in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, -1)) do
            if string.sub(id, 1, #want) == want then
              if total >= offset and #page < limit then page[#page + 1] = id end
              total = total + 1
            end
          end
        end
        local out = {total}
        for _, id in ipairs(page) do
          out[#out + 1] = id
          out[#out + 1] = redis.call('HMGET', prefix .. 'job:' .. id, unpack(fields))
        end
        return out
        """
}
