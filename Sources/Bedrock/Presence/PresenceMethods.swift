import GatewayCore
import JSONCodec
import Logging
import RedisClient

/// The session methods of SPEC §14, on the worker queue with pooled connections:
///
/// | method | route | role | answer |
/// |---|---|---|---|
/// | `presence.get` | `GET /v1/presence?topic=` | ADMIN | `{"total_connections","users":[{"sub","role","connections","since"}],"gateways"}` over every live gateway |
/// | `admin.disconnect` | `POST /v1/admin/disconnect` `{"sub","revoke"?}` | ADMIN | `{"sub","revoke","revoked_before","connections"}` |
///
/// A disconnect goes to every gateway on the control stream (`PresenceStore.disconnect`, with the revocation in the same `MULTI`); each closes
/// that user's sockets with 4403. With `revoke`, the revocation is in the hash first, so a
/// gateway that starts later refuses the old tokens too.
enum PresenceMethods {
    private static let log = Logger(label: "bedrock.presence")
    /// Longest `sub` accepted.
    static let maxSubLength = 256

    /// Registers the methods in `table`.
    static func register(
        in table: MethodTable, store: PresenceStore, pool: RedisPool, users: UserEvents? = nil, clock: any GatewayClock
    ) {
        let cache = PresenceCache(store: store)
        table.register(
            .pooled(.presenceGet, pool: pool, label: "presence") { _, params, redis in
                let topic = try topicFilter(params)
                let (summary, gateways) = try cache.read(nowMillis: wallMillis(clock), on: redis)
                return summary.answer(topic: topic, gateways: gateways)
            })
        table.register(
            .pooled(.adminDisconnect, pool: pool, label: "admin.disconnect") { call, params, redis in
                let (sub, revoke) = try disconnectParams(call.params, params)
                let now = wallMillis(clock)
                let known = try cache.read(nowMillis: now, on: redis).summary.users[sub]?.connections ?? 0
                let before = revoke ? revocationBoundary(millis: now) : nil
                try store.disconnect(SessionOrder(sub: sub, revokedMillis: before), on: redis)
                // The user's own topic says why (read on reconnecting, or replayed with `since`); a
                // failed append is logged and does not undo the disconnect.
                do {
                    try users?.append(
                        sub: sub, eventType: "notice",
                        fields: ["message": .string(disconnectNotice(revoke: revoke)), "from": .string(call.subject)],
                        on: redis)
                } catch {
                    log.warning("admin.disconnect: the notice to \(sub) was not appended: \(error)")
                }
                return .object([
                    ("sub", .string(sub)), ("revoke", .bool(revoke)),
                    ("revoked_before", before.map { .string(Timestamp.rfc3339(millis: $0)) } ?? .null),
                    ("connections", .int(Int64(known))),
                ])
            })
    }

    /// The text of the `notice` a disconnected user finds on its `user` topic.
    static func disconnectNotice(revoke: Bool) -> String {
        revoke
            ? "Your sessions were closed by an administrator and your tokens revoked: sign in again."
            : "Your sessions were closed by an administrator."
    }

    /// The `revoked_before` of a revocation made at `millis`: the next whole second. A token's
    /// `iat` is in whole seconds, so every token minted up to the revocation (`iat` at most its
    /// second) is before the boundary, and one minted from the boundary on is not: the answer
    /// says exactly which tokens work.
    static func revocationBoundary(millis: Int64) -> Int64 { (millis / 1000 + 1) * 1000 }

    /// The optional `topic` filter: a topic name a subscriber can use. Presence counts every
    /// `klines:MARKET:INTERVAL` topic as `klines` (`PresenceBook.summary()`), so such a filter
    /// answers for `klines` as a whole.
    static func topicFilter(_ params: LedgerParams) throws(APIError) -> String? {
        guard let name = try params.string("topic") else { return nil }
        guard let topic = Topic(name) else {
            throw APIError(
                .badRequest,
                "unknown topic \"\(name)\": use signals, portfolio, risk, opportunities, models, news, user or klines:MARKET:INTERVAL"
            )
        }
        return PresenceBook.metricTopic(topic.name)
    }

    /// `sub` (required, 1–256 characters, not blank, no control characters, not an API key's identity)
    /// and `revoke` (a boolean, default false).
    static func disconnectParams(_ raw: JSONObject, _ params: LedgerParams) throws(APIError) -> (String, Bool) {
        guard let sub = try params.string("sub") else { throw APIError(.badRequest, "sub is required") }
        guard sub.count <= maxSubLength, !sub.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw APIError(.badRequest, "sub must be 1-\(maxSubLength) characters without control characters")
        }
        guard sub.contains(where: { !$0.isWhitespace }) else { throw APIError(.badRequest, "sub must not be blank") }
        guard !sub.hasPrefix("apikey:") else {
            throw APIError(
                .badRequest, "\(sub) is an API key: it has no sockets and cannot be revoked here; remove the key from api.keys")
        }
        var revoke = false
        if let value = raw["revoke"], !value.isNull {
            guard let flag = value.boolValue ?? value.stringValue.flatMap({ ["true": true, "false": false][$0] }) else {
                throw APIError(.badRequest, "revoke must be true or false")
            }
            revoke = flag
        }
        return (sub, revoke)
    }

    private static func wallMillis(_ clock: any GatewayClock) -> Int64 { Int64(clock.read().wall * 1000) }
}
