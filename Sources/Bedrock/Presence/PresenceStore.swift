import RedisClient

/// A disconnect order on the control stream: close every socket of `sub` on every gateway (4403),
/// and with `revokedMillis` refuse its tokens issued before then.
struct SessionOrder: Sendable, Equatable {
    let sub: String
    let revokedMillis: Int64?
}

/// The Redis side of sessions across gateways (docs/REDIS_LAYOUT.md): the keys and every command
/// on them, on a connection the caller owns (the presence writer's, or a pooled one of an API
/// worker). Never called on an event loop.
struct PresenceStore: Sendable {
    /// The key prefix (`redis.prefix`).
    let prefix: String

    /// Sorted set: live gateway id → the wall time (ms) its summary expires.
    var gatewaysKey: String { prefix + "presence:gateways" }
    /// String: one gateway's `PresenceSummary`, expiring with `presence.ttl_s`.
    func summaryKey(_ gateway: String) -> String { prefix + "presence:gw:" + gateway }
    /// Hash: revoked `sub` → epoch ms before which its tokens are refused.
    var revokedKey: String { prefix + "revoked" }
    /// Stream: disconnect orders every gateway reads (`SessionOrder`).
    var controlKey: String { prefix + "control:sessions" }
    /// Entries kept on the control stream (approximate): orders are read within a second.
    static let controlMaxlen = 1000

    /// Publish `summary` as `gateway`'s, living `ttlMillis` from `nowMillis`.
    func publish(_ summary: PresenceSummary, gateway: String, nowMillis: Int64, ttlMillis: Int64, on redis: RedisConnection)
        throws
    {
        let encoded = summary.encoded()
        let replies = try redis.pipeline(binary: [
            [Array("SET".utf8), Array(summaryKey(gateway).utf8), encoded, Array("PX".utf8), Array(String(ttlMillis).utf8)],
            ["ZADD", gatewaysKey, String(nowMillis + ttlMillis), gateway].map { Array($0.utf8) },
            ["ZREMRANGEBYSCORE", gatewaysKey, "-inf", "(\(nowMillis)"].map { Array($0.utf8) },
        ])
        for reply in replies { _ = try reply.checked() }
    }

    /// Remove `gateway`'s summary at once (a clean stop).
    func withdraw(gateway: String, on redis: RedisConnection) throws {
        for reply in try redis.pipeline([["DEL", summaryKey(gateway)], ["ZREM", gatewaysKey, gateway]]) {
            _ = try reply.checked()
        }
    }

    /// Every live gateway's summary merged, and how many gateways that is.
    func read(nowMillis: Int64, on redis: RedisConnection) throws -> (summary: PresenceSummary, gateways: Int) {
        let ids = try redis.command(["ZRANGEBYSCORE", gatewaysKey, String(nowMillis), "+inf"]).checked().array ?? []
        let names = ids.compactMap(\.string)
        guard !names.isEmpty else { return (PresenceSummary(), 0) }
        let blobs = try redis.command(["MGET"] + names.map(summaryKey)).checked().array ?? []
        var merged = PresenceSummary()
        var live = 0
        for blob in blobs {
            guard case .bulk(let bytes) = blob, let summary = PresenceSummary(encoded: bytes) else { continue }
            merged.merge(summary)
            live += 1
        }
        return (merged, live)
    }

    /// Record a revocation of `sub` at `millis` (kept until removed by hand: it must survive restarts).
    func revoke(_ sub: String, millis: Int64, on redis: RedisConnection) throws {
        _ = try redis.command(["HSET", revokedKey, sub, String(millis)]).checked()
    }

    /// Every revocation.
    func revocations(on redis: RedisConnection) throws -> [String: Int64] {
        let flat = try redis.command(["HGETALL", revokedKey]).checked().array ?? []
        var all: [String: Int64] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let sub = flat[index].string, let millis = flat[index + 1].integer { all[sub] = millis }
            index += 2
        }
        return all
    }

    /// Send `order` to every gateway.
    func send(_ order: SessionOrder, on redis: RedisConnection) throws {
        var fields = ["sub", order.sub]
        if let millis = order.revokedMillis { fields += ["revoked_ms", String(millis)] }
        _ = try redis.command(["XADD", controlKey, "MAXLEN", "~", String(PresenceStore.controlMaxlen), "*"] + fields)
            .checked()
    }

    /// The id of the newest control entry ("0-0" when there is none): where a reader starts.
    func controlTail(on redis: RedisConnection) throws -> String {
        let newest = try redis.command(["XREVRANGE", controlKey, "+", "-", "COUNT", "1"]).checked().array ?? []
        return newest.first?.array?.first?.string ?? "0-0"
    }

    /// Control orders after `lastID`, waiting up to `blockMillis` for one; returns them and the
    /// id to read after next.
    func orders(after lastID: String, blockMillis: Int, on redis: RedisConnection) throws -> (
        orders: [SessionOrder], lastID: String
    ) {
        let reply = try redis.command([
            "XREAD", "COUNT", "100", "BLOCK", String(blockMillis), "STREAMS", controlKey, lastID,
        ]).checked()
        var orders: [SessionOrder] = []
        var last = lastID
        for stream in reply.array ?? [] {
            for entry in stream.array?.last?.array ?? [] {
                guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { continue }
                last = id
                let fields = parts[1].array?.compactMap(\.string) ?? []
                var values: [String: String] = [:]
                var index = 0
                while index + 1 < fields.count {
                    values[fields[index]] = fields[index + 1]
                    index += 2
                }
                guard let sub = values["sub"] else { continue }
                orders.append(SessionOrder(sub: sub, revokedMillis: values["revoked_ms"].flatMap { Int64($0) }))
            }
        }
        return (orders, last)
    }
}
