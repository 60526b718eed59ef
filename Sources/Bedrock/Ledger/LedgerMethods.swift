import GatewayCore
import JSONCodec
import RedisClient
import TradingCore

/// The ledger's API methods (SPEC §4/§5): registered once in the `MethodTable`, so REST and the
/// socket give the same answers. Each call borrows a pooled Redis connection on the worker
/// thread running it.
///
/// | method | params | answer |
/// |---|---|---|
/// | `markets.list` | – | `{"total","data":[{"market","exchange","symbol","status","intervals":[{"interval","topic","exchange","symbol","status","last_bar_time","bars","last_id","last_bar"}]}]}` (`Ledger.markets(on:)`) |
/// | `signals.list` | `market`, `interval`, `strategy`, `side`, `final_decision`, `from`, `to` (bar time), `limit`, `offset` | page of signals, newest first (`LedgerFilter`) |
/// | `signals.get` | `id` | one signal (404 unknown) |
/// | `signals.arbiter_stats` | – | `{"approved","rejected","rejection_reasons"}` |
/// | `positions.list` | `market`, `status` (OPEN/CLOSED), `side`, `exit_reason`, `strategy`, `from`, `to` (open time), `limit`, `offset` | page of positions, newest first (CLOSED: by close time), each with `strategy` |
/// | `positions.get` | `id` | one position |
/// | `positions.estimate` | `signal_id`, or `market`+`entry_price`+`stop_loss_price`[+`suggested_position_weight`, `profit_target_price`] | the estimate |
/// | `positions.open` | `market`, `side`, `stop_loss_price`, `size` or `weight`, `profit_target_price`? | the opened position (`LedgerMethods.open`) |
/// | `positions.close` | `id` | the closed position (404 unknown, 409 not open) |
/// | `trades.list` | `market`, `side`, `exit_reason`, `strategy`, `from`, `to` (exit time), `limit`, `offset` | page of trades, newest first, each with `strategy` |
/// | `account.get` / `stats.get` / `risk.get` | – | account / stats / risk state |
/// | `risk.kill_switch` | `enabled` (bool), `reason`? | the risk state after the change |
/// | `stats.daily` | `from`, `to` | `{"data":[{"date","equity",totals…}],"totals"}` per UTC day of exit time (`TradeStats`) |
/// | `stats.by_market` / `stats.by_exit_reason` / `stats.by_strategy` | `from`, `to` | `{"data":[{"market"\|"exit_reason"\|"strategy",totals…}],"totals"}` |
///
/// Downloads (REST, VIEWER): `GET /v1/signals/export`, `/v1/positions/export`, `/v1/trades/export`
/// with the list filters, `format=csv`, `limit` ≤ 10,000 (`LedgerReads.export`).
public enum LedgerMethods {
    /// Registers every ledger method in `table`; a manual open or close is announced on the
    /// caller's `user` topic through `users` when given (`position.manual`).
    public static func register(
        in table: MethodTable, ledger: Ledger, pool: RedisPool,
        clock: any GatewayClock = SystemClock(), users: UserEvents? = nil
    ) {
        func add(_ method: Method, _ body: @escaping @Sendable (MethodCall, LedgerParams, RedisConnection) throws -> JSONValue) {
            table.register(.pooled(method, pool: pool, label: "ledger", body))
        }
        add(.marketsList) { _, _, c in
            let markets = try ledger.markets(on: c)
            return .object(["total": .int(Int64(markets.count)), "data": .array(markets.map(JSONValue.object))])
        }
        let index = LedgerIndex(prefix: ledger.prefix)
        index.warm(with: pool)
        let reads = LedgerReads(ledger: ledger, index: index)
        add(.signalsList) { _, p, c in try reads.list(.signal, p, on: c) }
        add(.signalsGet) { _, p, c in try found(ledger.record(.signal, id: p.id(what: "signal"), on: c), p, "signal") }
        add(.signalsArbiterStats) { _, _, c in .object(try ledger.arbiterStats(on: c)) }
        add(.positionsList) { _, p, c in try reads.list(.position, p, on: c) }
        add(.positionsGet) { _, p, c in try found(ledger.record(.position, id: p.id(what: "position"), on: c), p, "position") }
        let snapshots = SnapshotCache(clock: clock)
        snapshots.keepWarm { try pool.with { try ledger.snapshot(on: $0) } }
        add(.positionsEstimate) { _, p, c in try estimate(p, ledger: ledger, snapshots: snapshots, on: c) }
        let bases = EstimateBasisMemo()
        table.register(
            inline: InlineHandler(.positionsEstimate) { call in
                estimateInline(LedgerParams(params: call.params), ledger: ledger, snapshots: snapshots, bases: bases)
            })
        add(.positionsOpen) { call, p, c in
            defer { snapshots.invalidate() }
            let opened = try open(p, by: call.subject, ledger: ledger, on: c)
            if let position = opened.objectValue {
                users?.postManualPosition(sub: call.subject, action: "opened", position: position)
            }
            return opened
        }
        add(.positionsClose) { call, p, c in
            defer { snapshots.invalidate() }
            let closed = try close(p, by: call.subject, ledger: ledger, on: c)
            if let position = closed.objectValue {
                users?.postManualPosition(sub: call.subject, action: "closed", position: position)
            }
            return closed
        }
        add(.tradesList) { _, p, c in try reads.list(.trade, p, on: c) }
        add(.accountGet) { _, _, c in .object(try ledger.account(on: c)) }
        add(.statsGet) { _, _, c in .object(try ledger.stats(on: c)) }
        add(.riskGet) { _, _, c in .object(try ledger.risk(on: c)) }
        add(.statsDaily) { _, p, c in try reads.daily(p, on: c) }
        add(.statsByMarket) { _, p, c in try reads.stats(by: .market, p, on: c) }
        add(.statsByExitReason) { _, p, c in try reads.stats(by: .exitReason, p, on: c) }
        add(.statsByStrategy) { _, p, c in try reads.stats(by: .strategy, p, on: c) }
        for kind in [LedgerRecord.signal, .position, .trade] {
            table.register(
                download: DownloadRoute("/v1/\(kind.plural)/export", leastRole: .viewer) { call in
                    MethodHandler.pooled(pool: pool, label: "export") {
                        try reads.export(kind, LedgerParams(params: call.params), on: $0)
                    }
                })
        }
        add(.riskKillSwitch) { call, p, c in
            guard let value = call.params["enabled"] else { throw APIError(.badRequest, "enabled is required (true or false)") }
            guard let enabled = value.boolValue else { throw APIError(.badRequest, "enabled must be a boolean") }
            defer { snapshots.invalidate() }
            _ = try ledger.setKillSwitch(enabled, by: call.subject, reason: p.string("reason"), on: c)
            return .object(try ledger.risk(on: c))
        }
    }

    private static func found(_ record: JSONObject?, _ p: LedgerParams, _ what: String) throws -> JSONValue {
        guard let record else { throw APIError(.notFound, "no \(what) with id \(try p.id(what: what))") }
        return .object(record)
    }

    /// `positions.estimate`: by `signal_id`, or by explicit prices.
    static func estimate(
        _ p: LedgerParams, ledger: Ledger, snapshots: SnapshotCache = SnapshotCache(maxAge: 0),
        on c: RedisConnection
    ) throws -> JSONValue {
        let market: String, entry: Double, stop: Double
        var target: Double?, weight: Double?
        if let given = p.params["signal_id"], !given.isNull, given.stringValue != "" {
            guard let signal = try ledger.record(.signal, id: p.id("signal_id", what: "signal"), on: c) else {
                throw APIError(.notFound, "no signal with id \(try p.id("signal_id", what: "signal"))")
            }
            market = signal["market"]?.stringValue ?? ""
            entry = signal["entry_price"]?.doubleValue ?? 0
            stop = signal["stop_loss_price"]?.doubleValue ?? entry
            target = signal["profit_target_price"]?.doubleValue
            weight = signal["suggested_position_weight"]?.doubleValue
        } else {
            (market, entry, stop, target, weight) = try pricedInputs(p)
        }
        return estimate(
            market: market, entry: entry, stop: stop, target: target, weight: weight,
            basis: EstimateBasis(try snapshots.snapshot(ledger, on: c), ledger: ledger), ledger: ledger)
    }

    /// `positions.estimate` by explicit prices on a snapshot already in memory: the event loop's
    /// fast path. nil (go to a worker) for `signal_id` (a Redis read) or when the shared snapshot
    /// is not fresh; refusals of bad parameters are answered at once.
    static func estimateInline(
        _ p: LedgerParams, ledger: Ledger, snapshots: SnapshotCache,
        bases: EstimateBasisMemo
    ) -> Result<JSONValue, APIError>? {
        if let given = p.params["signal_id"], !given.isNull, given.stringValue != "" { return nil }
        let inputs: (String, Double, Double, Double?, Double?)
        do { inputs = try pricedInputs(p) } catch let error as APIError { return .failure(error) } catch { return nil }
        guard let current = snapshots.current() else { return nil }
        let basis = bases.basis(current.snapshot, version: current.version, ledger: ledger)
        return .success(
            estimate(
                market: inputs.0, entry: inputs.1, stop: inputs.2, target: inputs.3, weight: inputs.4,
                basis: basis, ledger: ledger))
    }

    /// market, entry, stop, target, weight of an estimate by prices.
    private static func pricedInputs(_ p: LedgerParams) throws -> (String, Double, Double, Double?, Double?) {
        guard let market = try p.market() else { throw APIError(.badRequest, "market is required (or signal_id)") }
        let entry = try p.positive("entry_price")
        let stop = try p.positive("stop_loss_price")
        let target = try p.number("profit_target_price")
        let weight = try p.number("suggested_position_weight")
        if let w = weight, !(0...1).contains(w) {
            throw APIError(.badRequest, "suggested_position_weight must be between 0 and 1")
        }
        return (market, entry, stop, target, weight)
    }

    /// The estimate itself: arithmetic on a snapshot's basis.
    private static func estimate(
        market: String, entry: Double, stop: Double, target: Double?, weight: Double?,
        basis: EstimateBasis, ledger: Ledger
    ) -> JSONValue {
        let e = Estimator.estimate(
            market: market, entryPrice: entry, stopLossPrice: stop, profitTargetPrice: target,
            suggestedWeight: weight, account: basis.account, riskState: basis.risk,
            sizing: ledger.settings.sizing, risk: ledger.settings.risk,
            commissionRate: ledger.settings.commissionRate)
        return .object([
            "estimated_position_size": .double(e.estimatedPositionSize),
            "estimated_cost": .double(e.estimatedCost), "risk_percentage": .double(e.riskPercentage),
            "position_weight_used": .number(e.positionWeightUsed), "allowed": .bool(e.allowed),
            "reasons": .array(e.reasons.map(\.json)),
        ])
    }

    /// `positions.close`: at the market's last known price, exit reason MANUAL, `closed_by` the caller.
    static func close(_ p: LedgerParams, by subject: String, ledger: Ledger, on c: RedisConnection) throws -> JSONValue {
        let id = try p.id(what: "position")
        guard let position = try ledger.record(.position, id: id, on: c) else {
            throw APIError(.notFound, "no position with id \(id)")
        }
        guard position["status"]?.stringValue == PositionStatus.open.rawValue else {
            throw APIError(.conflict, "position \(id) is already closed")
        }
        let market = position["market"]?.stringValue ?? ""
        guard let price = try ledger.lastPrice(market: market, on: c) ?? position["current_price"]?.doubleValue else {
            throw APIError(.conflict, "no price known for \(market)")
        }
        let result = try ledger.closePosition(id: id, price: price, reason: "MANUAL", closedBy: subject, on: c)
        switch result.status {
        case "closed": break
        case "already_closed": throw APIError(.conflict, "position \(id) is already closed")
        case "not_found": throw APIError(.notFound, "no position with id \(id)")
        default: throw LedgerError.reply("close_position answered \(result.reply)")
        }
        guard let closed = try ledger.record(.position, id: id, on: c) else {
            throw APIError(.notFound, "no position with id \(id)")
        }
        return .object(closed)
    }
}
