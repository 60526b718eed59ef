import Foundation
import JSONCodec
import RedisClient

/// Reads the `news` stream for the sentiment book, on its own thread and connection: at start
/// the entries of the last `llm.cache_ttl_s` (at most `backlog`), then every new entry with
/// `XREAD BLOCK`. Headlines (`news.published`) go to their markets; answers shared by any
/// gateway (`sentiment.updated`) are adopted. Other entries (the stream is open to anyone) are
/// skipped. Reconnects after an error, backing off up to 5 s.
final class NewsReader: Sendable {
    private let service: LLMService
    /// Entries read back at start, at most.
    static let backlog = 500
    /// Entries read per `XREAD`.
    static let batch = 500

    init(service: LLMService) { self.service = service }

    /// The thread's body: reads until the service stops.
    func run() {
        let redis = LazyRedisConnection(address: service.address)
        var last: String?
        var backoff = 0.1
        while service.running {
            do {
                if last == nil { last = try catchUp(redis) }
                last = try readNew(after: last!, redis)
                backoff = 0.1
            } catch {
                guard service.running else { return }
                service.log.warning(
                    "llm: news stream read failed; retrying",
                    metadata: ["task": "news", "outcome": "redis_error", "error": "\(error)", "retry_s": "\(backoff)"])
                Thread.sleep(forTimeInterval: backoff)
                backoff = min(5, backoff * 2)
            }
        }
    }

    /// Feeds the recent backlog to the book; the id to read after.
    private func catchUp(_ redis: LazyRedisConnection) throws -> String {
        let reply = try redis.with { c in
            try c.command(["XREVRANGE", service.newsStream, "+", "-", "COUNT", String(Self.backlog)]).checked()
        }
        let entries = reply.array ?? []
        guard let newest = entries.first?.array?.first?.string else { return "0-0" }
        let oldestKept = (service.clock.read().wall - service.config.cacheTTLS) * 1000
        let recent = entries.reversed().compactMap { entry -> NewsStreamEntry? in
            guard let id = entry.array?.first?.string, let millis = Double(id.split(separator: "-").first ?? ""),
                millis >= oldestKept
            else { return nil }
            return Self.entry(entry)
        }
        if !recent.isEmpty { service.newsArrived(recent, replaying: true) }
        return newest
    }

    /// Waits up to a second for entries after `id`, feeds them; the id to read after next.
    private func readNew(after id: String, _ redis: LazyRedisConnection) throws -> String {
        let reply = try redis.with { c in
            try c.command([
                "XREAD", "COUNT", String(Self.batch), "BLOCK", "1000", "STREAMS", service.newsStream, id,
            ]).checked()
        }
        guard let entries = reply.array?.first?.array?.last?.array, !entries.isEmpty else { return id }
        service.newsArrived(entries.compactMap(Self.entry), replaying: false)
        return entries.last?.array?.first?.string ?? id
    }

    /// What a stream entry (`[id, [field, value, ...]]`) holds, if usable.
    static func entry(_ entry: RedisReply) -> NewsStreamEntry? {
        guard let fields = entry.array, fields.count == 2, let bytes = StreamReader.eventField(fields[1]),
            let event = (try? JSONCodec.parse(bytes))?.objectValue
        else { return nil }
        return NewsStreamEntry.parse(event)
    }
}
