import JSONCodec
import RedisClient
import TradingCore

extension BarPipeline {
    /// What the engine remembers of a position's signal (fetched once per position).
    struct PositionOrigin: Sendable {
        var market: String
        var interval: String
        var barTime: Int64
        var stopEntry: Bool
    }

    /// Step 2: checks every open position of `bar.market` opened from a signal on this interval
    /// and decided before this bar: the triple exit (`TripleExit.check`, a bar touching both
    /// levels fills the stop, a gap fills at the open) closes it with STOP_LOSS, TRAILING_STOP or
    /// PROFIT_TARGET; else it is marked at the close with the trailing stop ratcheted
    /// (`TripleExit.closeBar`: armed after 1R in favour, never loosened).
    ///
    /// A stop-entry position decided on the previous bar was filled on this bar: as in the
    /// backtest, only what follows the fill counts (the fill price stands in for the open).
    /// Redelivery guard: `<prefix>engine:position_marks` holds, per open position, the newest bar
    /// time it was marked with; a bar not newer than that is skipped (checking an old bar against
    /// a stop already ratcheted by a newer one could close it wrongly). The mark is written just
    /// before `markPosition`, so a crash in between only loses one ratchet step, never adds a close.
    /// Returns the number of positions closed.
    @discardableResult
    func manageExits(
        _ bar: StreamBar, previousTime: Int64?, origins: inout [Int64: PositionOrigin],
        on c: RedisConnection
    ) throws -> Int {
        let open = try ledger.positions(market: bar.market, status: .open, offset: 0, limit: 1000, on: c).data
        guard !open.isEmpty else { return 0 }
        let marksKey = settings.prefix + "engine:position_marks"
        let ids = open.compactMap { $0["id"]?.intValue }
        let markReply = try c.command(["HMGET", marksKey] + ids.map { String($0) }).checked().array ?? []
        var marked: [Int64: Int64] = [:]
        for (i, id) in ids.enumerated() where i < markReply.count { marked[id] = markReply[i].integer }
        var closedCount = 0
        let now = clock(bar)
        for p in open {
            guard let id = p["id"]?.intValue, let sideText = p["side"]?.stringValue,
                let side = Side(rawValue: sideText), let entry = p["entry_price"]?.doubleValue
            else { continue }
            if let m = marked[id], bar.bar.time <= m { continue }
            if let signalID = p["signal_id"]?.intValue {
                if origins[id] == nil, let s = try ledger.record(.signal, id: signalID, on: c),
                    let interval = s["interval"]?.stringValue,
                    let t = s["bar_time"]?.stringValue.flatMap(KlineEvent.parseRFC3339)
                {
                    let type = s["signal_type"]?.stringValue ?? ""
                    origins[id] = PositionOrigin(
                        market: bar.market, interval: interval, barTime: t,
                        stopEntry: type == SignalType.oopsBuy.rawValue || type == SignalType.oopsSell.rawValue)
                }
                guard let origin = origins[id], origin.interval == bar.interval, origin.barTime < bar.bar.time else { continue }
                var reference = bar.bar.open
                let previous = previousTime ?? StreamBar.intervalMillis(bar.interval).map { bar.bar.time - $0 }
                if origin.stopEntry && origin.barTime == previous {
                    reference = side == .buy ? max(bar.bar.open, entry) : min(bar.bar.open, entry)
                }
                closedCount += try step(p, id: id, side: side, entry: entry, reference: reference, bar: bar, now: now, on: c)
            } else {
                // Opened without a signal (not by the engine): mark and exit on every bar of its market.
                closedCount += try step(p, id: id, side: side, entry: entry, reference: bar.bar.open, bar: bar, now: now, on: c)
            }
        }
        let openIDs = Set(ids)
        for (id, origin) in origins where origin.market == bar.market && !openIDs.contains(id) { origins[id] = nil }
        return closedCount
    }

    /// Rebuilds a position's `TripleExit` from its stored fields.
    static func exitState(_ p: JSONObject, side: Side, entry: Double) -> TripleExit {
        let initial = p["initial_stop_price"]?.doubleValue ?? p["stop_loss_price"]?.doubleValue
        let distance = p["trailing_distance"]?.doubleValue
        var exit = TripleExit(
            side: side, entryPrice: entry, stop: initial,
            target: p["profit_target_price"]?.doubleValue, trailDistance: distance)
        // The best price since entry matters only through the stored trailing stop (best ∓ distance)
        // and the armed flag: replaying one bar at that best price restores the same state.
        if let trail = p["trailing_stop_price"]?.doubleValue, let d = distance, d > 0 {
            let best = side == .buy ? trail + d : trail - d
            exit.closeBar(high: best, low: best)
        } else if p["trailing_armed"]?.boolValue == true, exit.riskUnit > 0 {
            let best = side == .buy ? entry + exit.riskUnit : entry - exit.riskUnit
            exit.closeBar(high: best, low: best)
        }
        return exit
    }

    private func step(
        _ p: JSONObject, id: Int64, side: Side, entry: Double, reference: Double, bar: StreamBar,
        now: Int64, on c: RedisConnection
    ) throws -> Int {
        var exit = BarPipeline.exitState(p, side: side, entry: entry)
        if let fill = exit.check(open: reference, high: bar.bar.high, low: bar.bar.low) {
            let write = try ledger.acceptingUnreplicated {
                try ledger.closePosition(id: id, price: fill.price, reason: fill.reason.rawValue, on: c, nowMillis: now)
            }
            if write.status == "closed" { metrics.closed(reason: fill.reason.rawValue) }
            _ = try c.command(["HDEL", settings.prefix + "engine:position_marks", String(id)]).checked()
            return 1
        }
        exit.closeBar(high: bar.bar.high, low: bar.bar.low)
        _ = try c.command(["HSET", settings.prefix + "engine:position_marks", String(id), String(bar.bar.time)]).checked()
        _ = try ledger.markPosition(
            id: id, price: bar.bar.close, trailingStop: exit.isTrailing ? exit.stop : nil,
            trailingArmed: exit.isArmed, on: c, nowMillis: now)
        return 0
    }
}
