import JSONCodec

/// Sums over closed trades for the analytics methods, exact in `Money` units. `wins` are
/// trades with net pnl > 0 and `losses` the rest (as `stats.get` counts them); `gross_profit`
/// is the sum of positive pnls, `gross_loss` that of negative ones (≤ 0); `win_rate` in percent;
/// `profit_factor` = gross_profit / |gross_loss|, null with no loss.
struct TradeTotals: Sendable, Equatable {
    var trades = 0
    var wins = 0
    var pnl: Int64 = 0
    var grossProfit: Int64 = 0
    var grossLoss: Int64 = 0
    var commission: Int64 = 0

    /// Adds one trade.
    @inline(__always)
    mutating func add(pnl p: Int64, commission c: Int64) {
        trades += 1
        pnl += p
        commission += c
        if p > 0 {
            wins += 1
            grossProfit += p
        } else if p < 0 {
            grossLoss += p
        }
    }

    var losses: Int { trades - wins }

    /// The answer fields (without the group's key).
    var json: JSONObject {
        func money(_ u: Int64) -> JSONValue { .double(Double(Money.text(units: u)) ?? 0) }
        return [
            "trades": .int(Int64(trades)), "wins": .int(Int64(wins)), "losses": .int(Int64(losses)),
            "pnl": money(pnl), "gross_profit": money(grossProfit), "gross_loss": money(grossLoss),
            "commission": money(commission),
            "win_rate": .double(trades > 0 ? Double(wins) / Double(trades) * 100 : 0),
            "profit_factor": grossLoss < 0 ? .double(Double(grossProfit) / Double(-grossLoss)) : .null,
        ]
    }
}

/// The analytics groupings over trade rows (`IndexedRow` of trades: `time` is the exit time).
enum TradeStats {
    /// What a by-key answer groups on.
    enum Grouping: String, Sendable {
        case market, exitReason = "exit_reason", strategy

        func code(_ row: IndexedRow) -> Int32 {
            switch self {
            case .market: return row.market
            case .exitReason: return row.exitReason
            case .strategy: return row.strategy
            }
        }
    }

    /// `{"data":[{<key>, totals…}], "totals":{…}}` over the rows within [from, to], one entry
    /// per distinct value of `grouping`, sorted by that value.
    static func grouped(
        _ rows: [IndexedRow], by grouping: Grouping, words: Vocabulary, from: Int64?, to: Int64?
    ) -> JSONValue {
        var groups: [Int32: TradeTotals] = [:]
        var all = TradeTotals()
        let lo = from ?? .min, hi = to ?? .max
        for row in rows where row.time >= lo && row.time <= hi {
            groups[grouping.code(row), default: TradeTotals()].add(pnl: row.pnl, commission: row.commission)
            all.add(pnl: row.pnl, commission: row.commission)
        }
        let named = groups.map { (name: words.name($0.key), totals: $0.value) }
            .sorted { ($0.name ?? "") < ($1.name ?? "") }
        let data: [JSONValue] = named.map { group in
            var object = group.totals.json
            object[grouping.rawValue] = .optional(group.name)
            return .object(object)
        }
        return .object(["data": .array(data), "totals": .object(all.json)])
    }

    /// Daily rows (UTC day of exit time, oldest first) within [from, to], each with `date` and
    /// `equity` = `initialBalance` + the pnl of every trade up to that day's end (trades before
    /// `from` included).
    static func daily(_ rows: [IndexedRow], initialBalance: Int64, from: Int64?, to: Int64?) -> JSONValue {
        var days: [Int64: TradeTotals] = [:]
        var before: Int64 = 0
        var all = TradeTotals()
        let lo = from ?? .min, hi = to ?? .max
        for row in rows {
            if row.time < lo {
                before += row.pnl
            } else if row.time <= hi {
                days[floorDay(row.time), default: TradeTotals()].add(pnl: row.pnl, commission: row.commission)
                all.add(pnl: row.pnl, commission: row.commission)
            }
        }
        var equity = initialBalance + before
        var data: [JSONValue] = []
        for day in days.keys.sorted() {
            let totals = days[day]!
            equity += totals.pnl
            var object = totals.json
            object["date"] = .string(LedgerTime.date(day: day))
            object["equity"] = .double(Double(Money.text(units: equity)) ?? 0)
            data.append(.object(object))
        }
        return .object(["data": .array(data), "totals": .object(all.json)])
    }

    /// Days since 1970-01-01 (UTC) of epoch milliseconds.
    static func floorDay(_ ms: Int64) -> Int64 {
        let d = ms / 86_400_000
        return ms < 0 && d * 86_400_000 != ms ? d - 1 : d
    }
}
