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
    /// Hash: one gateway's `PresenceSummary` (`summary`) and its `version`, expiring with
    /// `presence.ttl_s`.
    func summaryKey(_ gateway: String) -> String { prefix + "presence:gw:" + gateway }
    /// Hash: revoked `sub` → epoch ms before which its tokens are refused.
    var revokedKey: String { prefix + "revoked" }
    /// Counter: bumped with every change of `revokedKey` made through `disconnect`.
    var revokedVersionKey: String { prefix + "revoked:version" }
    /// Stream: disconnect orders every gateway reads (`SessionOrder`).
    var controlKey: String { prefix + "control:sessions" }
    /// Entries kept on the control stream (approximate): orders are read within a second.
    static let controlMaxlen = 1000

    /// Publish `gateway`'s summary (`version` of it; nil: only extend the one published, which
    /// a reader then need not fetch again), living `ttlMillis` from `nowMillis`. Returns false
    /// when there was nothing to extend (it expired meanwhile): publish the summary again.
    func publish(
        _ summary: (version: UInt64, summary: PresenceSummary)?, gateway: String, nowMillis: Int64, ttlMillis: Int64,
        on redis: RedisConnection
    ) throws -> Bool {
        let key = Array(summaryKey(gateway).utf8)
        var commands: [[[UInt8]]] = []
        if let summary {
            commands.append([
                Array("HSET".utf8), key, Array("version".utf8), Array(String(summary.version).utf8),
                Array("summary".utf8), summary.summary.encoded(),
            ])
        }
        commands.append([Array("PEXPIRE".utf8), key, Array(String(ttlMillis).utf8)])
        commands.append(["ZADD", gatewaysKey, String(nowMillis + ttlMillis), gateway].map { Array($0.utf8) })
        commands.append(["ZREMRANGEBYSCORE", gatewaysKey, "-inf", "(\(nowMillis)"].map { Array($0.utf8) })
        let replies = try redis.pipeline(binary: commands)
        for reply in replies { _ = try reply.checked() }
        return replies[replies.count - 3].integer == 1
    }

    /// Remove `gateway`'s summary at once (a clean stop).
    func withdraw(gateway: String, on redis: RedisConnection) throws {
        for reply in try redis.pipeline([["DEL", summaryKey(gateway)], ["ZREM", gatewaysKey, gateway]]) {
            _ = try reply.checked()
        }
    }

    /// The live gateways (their summaries not expired) and the version each one published.
    func liveVersions(nowMillis: Int64, on redis: RedisConnection) throws -> [(gateway: String, version: String)] {
        let ids = try redis.command(["ZRANGEBYSCORE", gatewaysKey, String(nowMillis), "+inf"]).checked().array ?? []
        let names = ids.compactMap(\.string)
        guard !names.isEmpty else { return [] }
        let versions = try redis.pipeline(names.map { ["HGET", summaryKey($0), "version"] })
        return zip(names, versions).compactMap { name, reply in
            (try? reply.checked())?.string.map { (name, $0) }
        }
    }

    /// One gateway's summary and its version; nil when it expired or does not parse.
    func summary(of gateway: String, on redis: RedisConnection) throws -> (version: String, summary: PresenceSummary)? {
        let reply = try redis.command(["HMGET", summaryKey(gateway), "version", "summary"]).checked().array ?? []
        guard reply.count == 2, let version = reply[0].string, case .bulk(let bytes) = reply[1],
            let summary = PresenceSummary(encoded: bytes)
        else { return nil }
        return (version, summary)
    }

    /// Disconnect every socket of `order.sub` on every gateway; with `order.revokedMillis`, record
    /// the revocation first (kept until removed by hand: it must survive restarts). The hash, its
    /// version and the order are one `MULTI`, so a gateway never sees the revocation without
    /// the order (it would close with 4401 rather than 4403).
    func disconnect(_ order: SessionOrder, on redis: RedisConnection) throws {
        var fields = ["sub", order.sub]
        var commands: [[String]] = []
        if let millis = order.revokedMillis {
            fields += ["revoked_ms", String(millis)]
            commands += [["HSET", revokedKey, order.sub, String(millis)], ["INCR", revokedVersionKey]]
        }
        commands.append(["XADD", controlKey, "MAXLEN", "~", String(PresenceStore.controlMaxlen), "*"] + fields)
        let replies = try redis.pipeline([["MULTI"]] + commands + [["EXEC"]])
        guard let exec = replies.last, let results = exec.array else {
            throw RedisError.server("MULTI/EXEC failed: \(replies.last.map { "\($0)" } ?? "no reply")")
        }
        for result in results { _ = try result.checked() }
    }

    /// The version of the revoked hash (0 when never written): bumped with every change made
    /// through `disconnect`, so a gateway reloads the hash only when it moved.
    func revocationsVersion(on redis: RedisConnection) throws -> Int64 {
        let reply = try redis.command(["GET", revokedVersionKey]).checked()
        return reply.string.flatMap { Int64($0) } ?? 0
    }

    /// Every revocation.
    func revocations(on redis: RedisConnection) throws -> [String: Int64] {
        PresenceStore.revocations(try redis.command(["HGETALL", revokedKey]).checked())
    }

    /// The control orders after `lastID` (without waiting), then every revocation and the hash's
    /// version, read in one `MULTI` so that each order comes before the revocation it carries.
    func revocationSnapshot(after lastID: String, on redis: RedisConnection) throws -> (
        orders: [SessionOrder], lastID: String, revocations: [String: Int64], version: Int64
    ) {
        let replies = try redis.pipeline([
            ["MULTI"], ["XREAD", "COUNT", "100", "STREAMS", controlKey, lastID], ["HGETALL", revokedKey],
            ["GET", revokedVersionKey], ["EXEC"],
        ])
        guard let results = replies.last?.array, results.count == 3 else {
            throw RedisError.server("MULTI/EXEC failed: \(replies.last.map { "\($0)" } ?? "no reply")")
        }
        let read = PresenceStore.orders(try results[0].checked(), after: lastID)
        let version = try results[2].checked().string.flatMap { Int64($0) } ?? 0
        return (read.orders, read.lastID, PresenceStore.revocations(try results[1].checked()), version)
    }

    private static func revocations(_ reply: RedisReply) -> [String: Int64] {
        let flat = reply.array ?? []
        var all: [String: Int64] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let sub = flat[index].string, let millis = flat[index + 1].integer { all[sub] = millis }
            index += 2
        }
        return all
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
        return PresenceStore.orders(reply, after: lastID)
    }

    private static func orders(_ reply: RedisReply, after lastID: String) -> (orders: [SessionOrder], lastID: String) {
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
