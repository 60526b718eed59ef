import JSONCodec
import RedisClient
import TradingCore

/// A page of records, newest first (SPEC §4 list shape).
public struct LedgerPage: Sendable, Equatable {
    /// Records matching the filter.
    public var total: Int
    /// The records of this page.
    public var data: [JSONObject]
}

/// Which positions to list.
public enum PositionStatus: String, Sendable, CaseIterable {
    case open = "OPEN", closed = "CLOSED"
}

extension Ledger {
    // MARK: records

    /// One record by id, nil when unknown.
    public func record(_ kind: LedgerRecord, id: Int64, on connection: RedisConnection) throws -> JSONObject? {
        kind.json(try connection.command(["HGETALL", kind.key(prefix: prefix, id: id)]).checked().hash)
    }

    /// A newest-first page of the ids in sorted-set `index` (score = id), as records.
    func page(
        _ kind: LedgerRecord, index: String, offset: Int, limit: Int,
        on connection: RedisConnection
    ) throws -> LedgerPage {
        let key = prefix + index
        let total = Int(try connection.command(["ZCARD", key]).checked().integer ?? 0)
        guard limit > 0, offset < total else { return LedgerPage(total: total, data: []) }
        let ids =
            try connection.command(["ZREVRANGE", key, String(offset), String(offset + limit - 1)]).checked()
            .array?.compactMap { $0.integer } ?? []
        let replies = try connection.pipeline(ids.map { ["HGETALL", kind.key(prefix: prefix, id: $0)] })
        return LedgerPage(total: total, data: try replies.compactMap { try kind.json($0.checked().hash) })
    }

    /// Signals, newest first, optionally of one market (any spelling; see `marketIndexes`).
    public func signals(market: String?, offset: Int, limit: Int, on connection: RedisConnection) throws -> LedgerPage {
        let indexes = try market.map { try marketIndexes($0, on: connection) { "signals:market:\($0)" } }
        return try page(.signal, indexes: indexes ?? ["signals:index"], offset: offset, limit: limit, on: connection)
    }

    /// Positions, newest first, optionally of one market (any spelling) and/or status.
    public func positions(
        market: String?, status: PositionStatus?, offset: Int, limit: Int,
        on connection: RedisConnection
    ) throws -> LedgerPage {
        let indexes: [String]
        switch (market, status) {
        case (nil, nil): indexes = ["positions:index"]
        case (nil, let s?): indexes = ["positions:status:\(s.rawValue)"]
        case (let m?, nil): indexes = try marketIndexes(m, on: connection) { "positions:market:\($0)" }
        case (let m?, let s?):
            indexes = try marketIndexes(m, on: connection) { "positions:market:\($0):status:\(s.rawValue)" }
        }
        return try page(.position, indexes: indexes, offset: offset, limit: limit, on: connection)
    }

    /// Trades, newest first, optionally of one market (any spelling).
    public func trades(market: String?, offset: Int, limit: Int, on connection: RedisConnection) throws -> LedgerPage {
        let indexes = try market.map { try marketIndexes($0, on: connection) { "trades:market:\($0)" } }
        return try page(.trade, indexes: indexes ?? ["trades:index"], offset: offset, limit: limit, on: connection)
    }

    /// Every open position (there are at most `risk.maxOpenPositions`, give or take).
    public func openPositions(on connection: RedisConnection) throws -> [JSONObject] {
        try positions(market: nil, status: .open, offset: 0, limit: 10_000, on: connection).data
    }

    // MARK: account, stats, risk

    /// Account, risk hash and open positions read in one round trip (`risk_snapshot.lua`).
    public struct Snapshot: Sendable {
        /// The account hash (a fresh account when nothing was written yet).
        public var account: [String: String]
        /// The risk hash.
        public var risk: [String: String]
        /// Open positions: market, size, current price, unrealized pnl.
        public var open: [(id: Int64, market: String, size: Double, price: Double, unrealized: Double)]

        /// Balance units, exact.
        func units(_ field: String) -> Int64 { account[field].flatMap(Money.units) ?? 0 }
        /// Σ size × current price of the open positions.
        public var exposure: Double { open.reduce(0) { $0 + $1.size * $1.price } }
    }

    /// Reads a `Snapshot`.
    public func snapshot(on connection: RedisConnection) throws -> Snapshot {
        let reply = try run("risk_snapshot", [:], on: connection).reply
        func strings(_ v: JSONValue?) -> [String: String] {
            var out: [String: String] = [:]
            for (k, value) in v?.objectValue?.members ?? [] { if let s = value.stringValue { out[k] = s } }
            return out
        }
        var account = strings(reply["account"])
        if account.isEmpty {
            let initial = Money.text(settings.initialBalance)
            account = [
                "initial_balance": initial, "balance": initial, "frozen": "0", "unrealized": "0",
                "realized_pnl": "0", "commission": "0",
            ]
        }
        let open = (reply["open"]?.arrayValue ?? []).compactMap { p -> (Int64, String, Double, Double, Double)? in
            guard let id = p["id"]?.intValue, let market = p["market"]?.stringValue else { return nil }
            func d(_ k: String) -> Double { p[k]?.stringValue.flatMap(Double.init) ?? 0 }
            return (id, market, d("size"), d("current_price"), d("unrealized_pnl"))
        }
        return Snapshot(account: account, risk: strings(reply["risk"]), open: open.map { ($0.0, $0.1, $0.2, $0.3, $0.4) })
    }

    /// `{"balance","available_balance","frozen_balance","equity","updated_at",...}` (SPEC §4).
    public func account(on connection: RedisConnection) throws -> JSONObject {
        account(try snapshot(on: connection))
    }

    func account(_ s: Snapshot) -> JSONObject {
        func d(_ units: Int64) -> JSONValue { .double(Double(Money.text(units: units)) ?? 0) }
        return [
            "balance": d(s.units("balance")), "available_balance": d(s.units("balance") - s.units("frozen")),
            "frozen_balance": d(s.units("frozen")), "equity": d(s.units("balance") + s.units("unrealized")),
            "updated_at": .optional(s.account["updated_at"]), "initial_balance": d(s.units("initial_balance")),
            "unrealized_pnl": d(s.units("unrealized")), "realized_pnl": d(s.units("realized_pnl")),
            "commission_paid": d(s.units("commission")),
        ]
    }

    /// `{"total_pnl","win_rate","avg_trade_duration_s","open_positions","exposure",...}`.
    public func stats(on connection: RedisConnection) throws -> JSONObject {
        let s = try connection.command(["HGETALL", prefix + "stats"]).checked().hash
        let trades = Int64(s["trades"] ?? "0") ?? 0
        let wins = Int64(s["wins"] ?? "0") ?? 0
        let duration = Int64(s["duration_s"] ?? "0") ?? 0
        let snap = try snapshot(on: connection)
        return [
            "total_pnl": .double(Double(s["net_pnl"] ?? "0") ?? 0),
            "win_rate": .double(trades > 0 ? Double(wins) / Double(trades) * 100 : 0),
            "avg_trade_duration_s": .double(trades > 0 ? Double(duration) / Double(trades) : 0),
            "open_positions": .int(Int64(snap.open.count)), "exposure": .double(snap.exposure),
            "total_trades": .int(trades), "winning_trades": .int(wins), "losing_trades": .int(trades - wins),
            "unrealized_pnl": .double(Double(Money.text(units: snap.units("unrealized"))) ?? 0),
        ]
    }

    /// The risk guard's view of the book (for estimates and the live engine).
    public func riskState(on connection: RedisConnection) throws -> RiskState {
        riskState(try snapshot(on: connection))
    }

    /// The risk guard's view of a snapshot: equity, peak, start-of-day equity (of today, UTC),
    /// open positions and markets, exposure, kill switch.
    public func riskState(_ s: Snapshot, nowMillis: Int64 = Timestamp.nowMillis()) -> RiskState {
        let equity = Double(Money.text(units: s.units("balance") + s.units("unrealized"))) ?? 0
        let today = String(Timestamp.rfc3339(millis: nowMillis).prefix(10))
        let dayStart = s.risk["day"] == today ? s.risk["day_start_equity"].flatMap(Double.init) : nil
        let peak = s.risk["peak_equity"].flatMap(Double.init).map { max($0, equity) }
        return RiskState(
            openPositions: s.open.count, openMarkets: Set(s.open.map { MarketName.canonical($0.market) ?? $0.market }),
            exposure: s.exposure,
            equity: equity, peakEquity: peak, dayStartEquity: dayStart,
            killSwitchEngaged: s.risk["kill_switch"] == "1")
    }

    /// `risk.get`: kill switch, drawdown, daily loss, exposure, limits and refusal counts.
    public func risk(on connection: RedisConnection) throws -> JSONObject {
        let refusals = try connection.command(["HGETALL", prefix + "risk:refusals"]).checked().hash
        let snap = try snapshot(on: connection)
        let r = snap.risk
        let state = riskState(snap)
        let limits = settings.risk
        return [
            "kill_switch": .bool(state.killSwitchEngaged),
            "kill_switch_updated_by": .optional(r["kill_switch_by"]),
            "kill_switch_updated_at": .optional(r["kill_switch_at"]),
            "equity": .double(state.equity), "peak_equity": .double(state.peakEquity),
            "day_start_equity": .double(state.dayStartEquity),
            "drawdown": .double(RiskGuard.drawdown(state)), "daily_loss": .double(RiskGuard.dailyLoss(state)),
            "open_positions": .int(Int64(state.openPositions)), "exposure": .double(state.exposure),
            "exposure_fraction": .double(state.equity > 0 ? state.exposure / state.equity : 0),
            "limits": .object([
                "max_open_positions": .int(Int64(limits.maxOpenPositions)),
                "max_exposure": .double(limits.maxExposure),
                "min_reward_risk": .double(limits.minRewardRisk),
                "daily_loss_limit": .double(limits.dailyLossLimit),
                "max_drawdown": .double(limits.maxDrawdown),
            ]),
            "refusals": .object(JSONObject(refusals.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value) ?? 0)) })),
        ]
    }

    /// `{"approved","rejected","rejection_reasons":{...}}`.
    public func arbiterStats(on connection: RedisConnection) throws -> JSONObject {
        let a = try connection.command(["HGETALL", prefix + "arbiter"]).checked().hash
        let reasons = try connection.command(["HGETALL", prefix + "arbiter:reasons"]).checked().hash
        return [
            "approved": .int(Int64(a["approved"] ?? "0") ?? 0), "rejected": .int(Int64(a["rejected"] ?? "0") ?? 0),
            "rejection_reasons": .object(
                JSONObject(reasons.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value) ?? 0)) })),
        ]
    }
}
