import JSONCodec
import RedisClient
import Synchronization
import TradingCore

/// What the ledger needs from configuration (`ledger.*`, `redis.prefix`, `redis.stream_maxlen`).
public struct LedgerSettings: Sendable, Equatable {
    /// Key prefix, e.g. `bedrock:`.
    public var prefix: String
    /// Approximate `MAXLEN ~` of the event streams.
    public var streamMaxlen: Int
    /// Balance of a fresh account (`ledger.initial_balance`).
    public var initialBalance: Double
    /// Commission rate per fill (`ledger.commission`, 0.001 = 0.1 %).
    public var commissionRate: Double
    /// Risk guard limits (`ledger.max_open_positions`, ...).
    public var risk: RiskConfig
    /// Sizing rules (`ledger.risk_per_trade`).
    public var sizing: SizingConfig
    /// Replicas that must acknowledge each write (`redis.min_replicas_to_ack`, `…_timeout_ms`).
    public var replicaAcks: ReplicaAcks

    /// Creates settings; every argument has the documented default.
    public init(
        prefix: String = "bedrock:", streamMaxlen: Int = 10000, initialBalance: Double = 100_000,
        commissionRate: Double = 0.001, risk: RiskConfig = .default, sizing: SizingConfig = .default,
        replicaAcks: ReplicaAcks = .off
    ) {
        self.prefix = prefix; self.streamMaxlen = streamMaxlen; self.initialBalance = initialBalance
        self.commissionRate = commissionRate; self.risk = risk; self.sizing = sizing
        self.replicaAcks = replicaAcks
    }
}

/// How many Redis replicas must hold a money write before it is reported done: after one of
/// `Ledger.replicatedScripts` the ledger sends `WAIT count timeout` on the same connection, and
/// fewer acknowledgements throw `LedgerError.notReplicated` (the write stays on the master).
public struct ReplicaAcks: Sendable, Equatable {
    /// Replicas that must acknowledge; 0 sends no `WAIT`.
    public var count: Int
    /// The longest `WAIT` blocks, in milliseconds.
    public var timeoutMillis: Int

    /// `count` replicas within `timeoutMillis`.
    public init(count: Int, timeoutMillis: Int) {
        self.count = count
        self.timeoutMillis = timeoutMillis
    }

    /// No `WAIT` (the default: asynchronous replication only).
    public static let off = ReplicaAcks(count: 0, timeoutMillis: 1000)
}

/// The outcome of one ledger script: `status` says what happened (`created`, `existing`,
/// `opened`, `refused`, `updated`, `unchanged`, `closed`, `already_closed`, `not_found`, ...).
public struct LedgerWrite: Sendable, Equatable {
    /// What the script did.
    public var status: String
    /// The record id concerned (signal, position), when there is one.
    public var id: Int64?
    /// The trade recorded by a close.
    public var tradeID: Int64?
    /// The stream entry id of the event written; nil when nothing was written.
    public var eventID: String?
    /// Refusal code (`open_position`: KILL_SWITCH, MARKET_ALREADY_OPEN, INSUFFICIENT_BALANCE, ZERO_SIZE).
    public var reason: String?
    /// Plain-words message of a refusal or invalid request.
    public var message: String?
    /// The full reply object.
    public var reply: JSONObject
}

/// The paper-trading ledger on Redis: signals, positions, trades, account and risk state under
/// the key prefix (docs/REDIS_LAYOUT.md). Every change runs as one Lua script that also appends
/// the SPEC §7 event announcing it, so a change never exists without its event or vice versa,
/// and every write is idempotent (see each method).
///
/// Threading: a `Ledger` holds no connection and no mutable state beyond the script SHA cache,
/// so one instance is shared by all threads; each call takes the caller's own
/// `RedisConnection`, which that thread must own for the duration of the call (API handlers
/// borrow one from a `RedisPool`; the live engine uses its own).
public final class Ledger: Sendable {
    /// Settings in effect.
    public let settings: LedgerSettings
    /// The script runner (shared SHA cache).
    public let scripts: ScriptRunner
    let ackFailures = Atomic<Int>(0)
    /// Replicas connected to each master (`confirmReplicas` fails fast when too few).
    let replicaCount = ReplicaCount()

    /// Writes that fewer replicas than `settings.replicaAcks.count` acknowledged in time (for
    /// `bedrock_redis_replica_ack_failures_total`).
    public var replicaAckFailures: Int { ackFailures.load(ordering: .relaxed) }

    /// Creates a ledger; loads the Lua scripts from the package resources unless given.
    public init(settings: LedgerSettings, scripts: ScriptRunner? = nil) throws {
        self.settings = settings
        self.scripts = try scripts ?? ScriptRunner()
    }

    var prefix: String { settings.prefix }

    /// The `opened_by` / `closed_by` of what the live engine does (entries, exits, stops, targets).
    public static let engineActor = "engine"

    /// The scripts that move or guard money (positions opened and closed — manual, engine
    /// entries, exits and fills — and the kill switch): the only ones `settings.replicaAcks`
    /// applies to. Marks, signals, alerts, news, sentiment and models are not waited for.
    public static let replicatedScripts: Set<String> = ["open_position", "close_position", "set_kill_switch"]

    /// Answers of `replicatedScripts` saying the change is on the master, written now or by an
    /// earlier call this one repeats (`existing`, `already_closed`, `unchanged`): both wait for
    /// the replicas, so a retried write is not reported done while still unreplicated.
    static let committedStatuses: Set<String> = ["opened", "existing", "closed", "already_closed", "changed", "unchanged"]

    /// Runs script `name` with `request` (see the header of each `.lua` file); `nowMillis` is
    /// the time of the change (injectable for tests). For `replicatedScripts` whose answer is in
    /// `committedStatuses`, when `settings.replicaAcks` asks for replicas, waits for them
    /// (`confirmReplicas`) and throws `LedgerError.notReplicated` when too few acknowledged.
    public func run(
        _ name: String, _ request: JSONObject, on connection: RedisConnection,
        nowMillis: Int64 = Timestamp.nowMillis()
    ) throws -> LedgerWrite {
        let args = [
            prefix, String(settings.streamMaxlen), Timestamp.rfc3339(millis: nowMillis), String(nowMillis),
            JSONCodec.encodeString(.object(request)), Money.text(settings.initialBalance),
        ]
        let reply = try scripts.run(name, args: args, on: connection)
        guard let text = reply.string, let object = (try? JSONCodec.parse(text))?.objectValue else {
            throw LedgerError.reply("\(name) answered \(reply)")
        }
        let write = LedgerWrite(
            status: object["status"]?.stringValue ?? "", id: object["id"]?.intValue,
            tradeID: object["trade_id"]?.intValue, eventID: object["event_id"]?.stringValue,
            reason: object["reason"]?.stringValue,
            message: object["message"]?.stringValue ?? object["error"]?.stringValue, reply: object)
        let waits: Bool = Ledger.replicatedScripts.contains(name) && Ledger.committedStatuses.contains(write.status)
        if waits && settings.replicaAcks.count > 0 { try confirmReplicas(write, on: connection) }
        return write
    }

    // MARK: writes

    /// Stores a signal with `signal.created`; once per strategy, market, interval and bar time
    /// (a repeat answers `existing` with the first signal's id and writes nothing).
    public func recordSignal(
        _ signal: SignalInput, on connection: RedisConnection,
        nowMillis: Int64 = Timestamp.nowMillis()
    ) throws -> LedgerWrite {
        try run("record_signal", signal.request, on: connection, nowMillis: nowMillis)
    }

    /// Opens a paper position with `portfolio.updated` (POSITION_OPENED); once per signal id.
    /// Answers `refused` (with `reason`) when the kill switch is on, `risk.maxOpenPositions` are
    /// open, the market has an open position or the available balance cannot pay cost +
    /// commission: those checks run inside the script, atomically.
    public func openPosition(
        _ position: OpenInput, on connection: RedisConnection,
        nowMillis: Int64 = Timestamp.nowMillis()
    ) throws -> LedgerWrite {
        var request = position.request
        request["commission_rate"] = .double(settings.commissionRate)
        request["max_open_positions"] = .int(Int64(settings.risk.maxOpenPositions))
        return try run("open_position", request, on: connection, nowMillis: nowMillis)
    }

    /// Marks an open position at `price` and ratchets its trailing stop (never loosens) with
    /// `portfolio.updated` (POSITION_UPDATED); `unchanged` writes nothing.
    public func markPosition(
        id: Int64, price: Double, trailingStop: Double? = nil, trailingArmed: Bool? = nil,
        on connection: RedisConnection, nowMillis: Int64 = Timestamp.nowMillis()
    ) throws -> LedgerWrite {
        var request: JSONObject = ["position_id": .int(id), "price": .string(Money.text(price))]
        if let trailingStop { request["trailing_stop_price"] = .string(Money.text(trailingStop)) }
        if let trailingArmed { request["trailing_armed"] = .bool(trailingArmed) }
        return try run("mark_position", request, on: connection, nowMillis: nowMillis)
    }

    /// Closes an OPEN position at `price` with `position.closed`, records the trade and settles
    /// the account; `already_closed` / `not_found` write nothing. `closedBy` is recorded as the
    /// position's `closed_by`: `engine` for exits, the caller's token subject for a manual close.
    public func closePosition(
        id: Int64, price: Double, reason: String, closedBy: String = Ledger.engineActor,
        on connection: RedisConnection, nowMillis: Int64 = Timestamp.nowMillis()
    ) throws -> LedgerWrite {
        try run(
            "close_position",
            [
                "position_id": .int(id), "exit_price": .string(Money.text(price)),
                "exit_reason": .string(reason), "commission_rate": .double(settings.commissionRate),
                "closed_by": .string(closedBy),
            ],
            on: connection, nowMillis: nowMillis)
    }

    /// Engages or releases the kill switch with `risk.alert`; `unchanged` writes nothing.
    public func setKillSwitch(
        _ enabled: Bool, by: String, reason: String? = nil, on connection: RedisConnection,
        nowMillis: Int64 = Timestamp.nowMillis()
    ) throws -> LedgerWrite {
        try run(
            "set_kill_switch", ["enabled": .bool(enabled), "by": .string(by), "reason": .optional(reason)],
            on: connection, nowMillis: nowMillis)
    }

    /// Appends `risk.alert` `MARKET_DATA_GAP`: bars of `market`/`interval` strictly between stream
    /// ids `after` and `next` were trimmed before the live engine read them (`missed` of them,
    /// when known).
    public func marketDataGap(
        market: String, interval: String, after: String, next: String, missed: UInt64?,
        on connection: RedisConnection, nowMillis: Int64 = Timestamp.nowMillis()
    ) throws -> LedgerWrite {
        try run(
            "market_data_gap",
            [
                "market": .string(market), "interval": .string(interval), "after": .string(after),
                "next": .string(next), "missed": missed.map { .int(Int64($0)) } ?? .null,
            ],
            on: connection, nowMillis: nowMillis)
    }

    /// Records a refused entry with `risk.alert` and counts its reasons; once per signal id.
    public func riskAlert(
        market: String, signalID: Int64?, reasons: [RiskReason], on connection: RedisConnection,
        nowMillis: Int64 = Timestamp.nowMillis()
    ) throws -> LedgerWrite {
        try run(
            "risk_alert",
            [
                "market": .string(market), "signal_id": signalID.map(JSONValue.int) ?? .null,
                "reasons": .array(reasons.map(\.json)),
            ],
            on: connection, nowMillis: nowMillis)
    }
}

extension RiskReason {
    /// `{"code","message","value","limit"}` as on the wire.
    public var json: JSONValue {
        .object([
            "code": .string(code.rawValue), "message": .string(message),
            "value": .number(value), "limit": .number(limit),
        ])
    }
}
