import JSONCodec
import RedisClient

/// The live engine configuration in Redis (docs/REDIS_LAYOUT.md): `<prefix>engine:config` holds
/// the current version's JSON, `<prefix>engine:config:versions` every version by number. With
/// no stored version the configuration is the gateway's file (`fileConfig`, version 0).
///
/// Threading: stateless; each call uses the caller's connection.
public struct EngineConfigStore: Sendable {
    /// The ledger whose script runner stores changes (`engine_configure.lua`) and whose prefix
    /// names the keys.
    public let ledger: Ledger
    /// Version 0: the file's `engine.strategies` and `arbiter.*`.
    public let fileConfig: EngineConfiguration

    /// A store under `ledger`'s prefix.
    public init(ledger: Ledger, fileConfig: EngineConfiguration) {
        self.ledger = ledger; self.fileConfig = fileConfig
    }

    var key: String { ledger.settings.prefix + "engine:config" }

    /// How often each engine looks for a new version (ms): every gateway applies a change
    /// within this plus one bar's processing.
    public static let checkIntervalMillis: Int64 = 500

    /// The current configuration (the file's while none is stored; a stored value that no longer
    /// parses, e.g. naming a strategy this build does not have, is refused with `LedgerError`).
    public func current(on c: RedisConnection) throws -> EngineConfiguration {
        guard let text = try c.command(["GET", key]).checked().string else { return fileConfig }
        return try parsed(text)
    }

    /// The stored text of the current configuration (nil: none stored), for cheap change checks.
    public func currentText(on c: RedisConnection) throws -> String? {
        try c.command(["GET", key]).checked().string
    }

    /// `text` as a configuration, or `LedgerError` naming the key.
    public func parsed(_ text: String) throws -> EngineConfiguration {
        guard let config = EngineConfiguration.stored(text) else {
            throw LedgerError.reply("\(key) holds an engine configuration this gateway cannot read")
        }
        return config
    }

    /// Stored versions, newest first: `(total, page)`.
    public func versions(offset: Int, limit: Int, on c: RedisConnection) throws -> (Int, [EngineConfiguration]) {
        let total = Int(try c.command(["HLEN", key + ":versions"]).checked().integer ?? 0)
        let newest = total - offset
        guard limit > 0, newest >= 1 else { return (total, []) }
        let numbers = stride(from: newest, to: max(0, newest - limit), by: -1).map(String.init)
        let texts = try c.command(["HMGET", key + ":versions"] + numbers).checked().array ?? []
        return (total, try texts.compactMap(\.string).map(parsed))
    }

    /// Stores `change(current)` as the next version, by `by`, at `nowMillis`; retries a few
    /// times when another gateway stored a version in between (the change is re-applied to the
    /// fresh one). Returns the stored configuration.
    public func update(
        by: String, nowMillis: Int64 = Timestamp.nowMillis(), on c: RedisConnection,
        _ change: (EngineConfiguration) throws -> EngineConfiguration
    ) throws -> EngineConfiguration {
        for _ in 0..<5 {
            let base = try current(on: c)
            var next = try change(base)
            next.version = base.version + 1
            next.updatedBy = by
            next.updatedAt = Timestamp.rfc3339(millis: nowMillis)
            let write = try ledger.run(
                "engine_configure",
                ["base_version": .int(Int64(base.version)), "config": .string(JSONCodec.encodeString(next.json))],
                on: c, nowMillis: nowMillis)
            if write.status == "stored" { return next }
            guard write.status == "conflict" else { throw LedgerError.reply("engine_configure answered \(write.reply)") }
        }
        throw APIError(.conflict, "the engine configuration is being changed by someone else; try again")
    }
}
