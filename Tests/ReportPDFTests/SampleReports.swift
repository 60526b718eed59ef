import JSONCodec
import TradingCore

/// Deterministic backtest reports of any size: hourly equity marks from 2017-01-01 (a seeded
/// walk) and `trades` trades spread evenly over them, as stored report JSON.
enum SampleReports {
    static let start: Int64 = 1_483_228_800_000
    static let hour: Int64 = 3_600_000

    static func report(trades n: Int, bars: Int) -> BacktestReport {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func unit() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        let times = (0..<bars).map { start + Int64($0) * hour }
        var equity: [Double] = []
        var value = 10_000.0
        for _ in 0..<bars {
            value *= 1 + (unit() - 0.49) * 0.01
            equity.append(value)
        }
        let trades = (0..<n).map { i -> Trade in
            let entry = times[i * (bars - 1) / max(n, 1)]
            let price = 100 + Double(i % 50)
            let pnl = (unit() - 0.45) * 40
            return Trade(
                entryTime: entry, exitTime: entry + hour, side: i % 3 == 0 ? .sell : .buy, entryPrice: price,
                exitPrice: price + pnl / 2, size: 2, pnl: pnl, commission: 0.2, slippage: 0.05,
                exitReason: [.stopLoss, .profitTarget, .signal, .endOfData][i % 4])
        }
        return BacktestReport(
            strategyName: "sma_cross", parameters: ["fast": 10, "slow": 20], initialBalance: 10_000, trades: trades,
            equityTimes: times, equity: equity)
    }

    static func json(trades n: Int, bars: Int) -> JSONValue { report(trades: n, bars: bars).jsonValue() }
}
