import JSONCodec
import RedisClient
import TradingCore

/// The live engine configuration in Redis (docs/REDIS_LAYOUT.md): `<prefix>engine:config` holds
/// the current version's JSON, `<prefix>engine:config:versions` every version by number. With
/// no stored version the configuration is the gateway's file (`fileConfig`, version 0).
///
/// A stored version this build cannot read (it names a strategy or parameter the build does not
/// have) is still shown, with `"readable": false` and the problem, and can be replaced by a
/// change that gives a full `strategies` list; pause and resume keep working on it.
///
/// Threading: stateless; each call uses the caller's connection.
public struct EngineConfigStore: Sendable {
    /// The ledger whose script runner stores changes (`engine_configure.lua`) and whose prefix
    /// names the keys.
    public let ledger: Ledger
    /// Version 0: the file's `engine.strategies` and `arbiter.*`.
    public let fileConfig: EngineConfiguration

    /// How often each engine looks for a new version (ms): every gateway applies a change
    /// within this plus one bar's processing.
    public static let checkIntervalMillis: Int64 = 500

    /// A store under `ledger`'s prefix.
    public init(ledger: Ledger, fileConfig: EngineConfiguration) {
        self.ledger = ledger; self.fileConfig = fileConfig
    }

    var key: String { ledger.settings.prefix + "engine:config" }
    var versionsKey: String { key + ":versions" }

    /// What is stored now, read in one round trip.
    public struct Stored: Sendable {
        /// The current version's text, nil while the file's configuration is in effect.
        public var text: String?
        /// Stored versions (`HLEN`): new versions are numbered after them.
        public var known: Int
        /// The current configuration, nil when `text` cannot be read by this build.
        public var config: EngineConfiguration?
        /// What can be read of an unreadable `text`.
        public var header: StoredHeader?

        /// The version a change is made from.
        var baseVersion: Int { config?.version ?? header?.version ?? 0 }
    }

    /// Reads the current configuration and the number of stored versions.
    public func read(on c: RedisConnection) throws -> Stored {
        let replies = try c.pipeline([["GET", key], ["HLEN", versionsKey]])
        let text = try replies[0].checked().string
        let known = Int(try replies[1].checked().integer ?? 0)
        guard let text else { return Stored(text: nil, known: known, config: fileConfig, header: nil) }
        return Stored(text: text, known: known, config: EngineConfiguration.stored(text), header: StoredHeader(text))
    }

    /// The current configuration as `engine.get` answers it: an unreadable stored version is
    /// shown as stored, with `"readable": false` and `"problem"`.
    public func currentJSON(on c: RedisConnection) throws -> JSONValue {
        let stored = try read(on: c)
        if let config = stored.config { return config.json }
        return EngineConfigStore.unreadable(stored.text ?? "")
    }

    /// The arbiter in effect under `prefix`: the stored version's, else `fallback` (the file's).
    /// Jobs and `models.list` use it, so a run-time change of the weights reaches them too.
    public static func arbiter(prefix: String, fallback: ArbiterConfig, on c: RedisConnection) throws -> ArbiterConfig {
        try c.command(["GET", prefix + "engine:config"]).checked().string.flatMap { StoredHeader($0)?.arbiter } ?? fallback
    }

    /// The stored text of the current configuration (nil: none stored), for cheap change checks.
    public func currentText(on c: RedisConnection) throws -> String? {
        try c.command(["GET", key]).checked().string
    }

    /// Stored versions, newest first: `(total, page)`; unreadable ones as `unreadable` shows them.
    public func versions(offset: Int, limit: Int, on c: RedisConnection) throws -> (Int, [JSONObject]) {
        let total = Int(try c.command(["HLEN", versionsKey]).checked().integer ?? 0)
        guard limit > 0, offset < total else { return (total, []) }
        // Version numbers are never reused but may skip (a reset); list by number, newest first.
        let numbers = try c.command(["HKEYS", versionsKey]).checked().array?.compactMap { $0.string.flatMap(Int.init) } ?? []
        let page = numbers.sorted(by: >).dropFirst(offset).prefix(limit).map(String.init)
        guard !page.isEmpty else { return (total, []) }
        let texts = try c.command(["HMGET", versionsKey] + page).checked().array ?? []
        return (
            total,
            texts.compactMap(\.string).compactMap { text in
                (EngineConfiguration.stored(text)?.json ?? EngineConfigStore.unreadable(text)).objectValue
            }
        )
    }

    /// An unreadable stored text as shown to clients.
    static func unreadable(_ text: String) -> JSONValue {
        var o = (try? JSONCodec.parse(text))?.objectValue ?? ["version": .null]
        o["readable"] = .bool(false)
        o["problem"] = .string(EngineConfigStore.problem(text))
        return .object(o)
    }

    /// Why `text` cannot be read, in words.
    static func problem(_ text: String) -> String {
        guard let header = StoredHeader(text), let o = header.object else {
            return "the stored engine configuration is not a JSON object with a version"
        }
        do {
            _ = try LiveStrategy.parseList(o["strategies"] ?? .null, fromText: false)
        } catch {
            return "version \(header.version) cannot be used by this gateway: strategies \(error.message)"
        }
        return "version \(header.version) cannot be used by this gateway: its arbiter is not valid"
    }

    /// Stores `change(current)` as the next version, by `by`, at `nowMillis`. When another
    /// change was stored in between, the change is re-applied to the fresh version (a few
    /// times); callers that must not build on a version they did not see pass `expected` and get
    /// a 409 instead. Returns the stored configuration.
    public func update(
        by: String, expected: Int? = nil, nowMillis: Int64 = Timestamp.nowMillis(), on c: RedisConnection,
        _ change: (EngineConfiguration) throws -> EngineConfiguration
    ) throws -> EngineConfiguration {
        for _ in 0..<5 {
            let stored = try read(on: c)
            if let expected, expected != stored.baseVersion {
                throw APIError(
                    .conflict,
                    "version is \(stored.baseVersion), not \(expected): someone changed the engine configuration; reload it and apply your change again"
                )
            }
            let base =
                stored.config
                ?? EngineConfiguration(
                    version: stored.baseVersion, status: stored.header?.status ?? .paused, strategies: [],
                    arbiter: stored.header?.arbiter ?? fileConfig.arbiter)
            var next = try change(base)
            guard !next.strategies.isEmpty else {
                let why =
                    stored.config == nil
                    ? EngineConfigStore.problem(stored.text ?? "") + "; send a full strategies list to replace it"
                    : "the configuration would have no strategy (this gateway's engine.strategies is empty and no version is stored yet); give strategies"
                throw APIError(.badRequest, "strategies: \(why)")
            }
            next.version = max(stored.baseVersion, stored.known) + 1
            next.updatedBy = by
            next.updatedAt = Timestamp.rfc3339(millis: nowMillis)
            let write = try ledger.run(
                "engine_configure",
                [
                    "base_version": .int(
                        Int64(stored.config == nil && stored.header == nil && stored.text != nil ? -1 : stored.baseVersion)),
                    "known": .int(Int64(stored.known)), "version": .int(Int64(next.version)),
                    "config": .string(JSONCodec.encodeString(next.json)),
                ],
                on: c, nowMillis: nowMillis)
            if write.status == "stored" { return next }
            guard write.status == "conflict" else { throw LedgerError.reply("engine_configure answered \(write.reply)") }
        }
        throw APIError(.conflict, "the engine configuration is being changed by someone else; try again")
    }
}
