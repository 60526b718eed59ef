import XCTest

@testable import TradingCore

/// Properties that must hold for every strategy on any data.
final class BacktesterPropertyTests: XCTestCase {
    /// A deterministic random walk with gaps (so that stop entries and gap fills happen).
    static func randomWalk(count: Int, seed: UInt64) -> BarSeries {
        var state = seed
        func next() -> Double {  // SplitMix64 → [0, 1)
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
        var series = BarSeries()
        var close = 100.0
        for k in 0..<count {
            let gap = next() < 0.15 ? (next() - 0.5) * 0.06 : (next() - 0.5) * 0.004
            let open = close * (1 + gap)
            close = open * (1 + (next() - 0.48) * 0.03)
            let high = max(open, close) * (1 + next() * 0.01)
            let low = min(open, close) * (1 - next() * 0.01)
            series.append(
                Bar(
                    time: 1_600_000_000_000 + Int64(k) * 3_600_000, open: open, high: high, low: low,
                    close: close, volume: 100 + next() * 900))
        }
        return series
    }

    private let strategies: [(String, [String: Double])] = [
        ("sma_cross", ["fast": 5, "slow": 12]), ("pullback", ["trend_period": 20, "ema_period": 10]), ("oops", [:]),
    ]

    private func config(risk: RiskConfig? = RiskConfig(maxDrawdown: 0.9)) -> BacktestConfig {
        BacktestConfig(initialBalance: 10_000, commissionRate: 0.001, slippageRate: 0.0005, risk: risk)
    }

    func testStrategiesTradeOnTheTestData() throws {
        let series = Self.randomWalk(count: 3000, seed: 7)
        for (name, params) in strategies {
            let r = try Backtester.run(series: series, strategyName: name, parameters: params, config: config())
            XCTAssertGreaterThan(r.trades.count, 5, name)
        }
    }

    func testFinalBalanceIsInitialPlusNetPnlExactly() throws {
        let series = Self.randomWalk(count: 3000, seed: 11)
        for (name, params) in strategies {
            let r = try Backtester.run(series: series, strategyName: name, parameters: params, config: config())
            var balance = r.initialBalance
            for t in r.trades { balance += t.pnl }
            XCTAssertEqual(r.finalBalance, balance, name)  // exact
            XCTAssertEqual(r.equityValues.last, r.finalBalance, name)
            let gross = r.trades.reduce(0.0) { $0 + $1.side.sign * $1.size * ($1.exitPrice - $1.entryPrice) }
            XCTAssertEqual(r.finalBalance, r.initialBalance + gross - r.totalCommission, accuracy: 1e-6, name)
            XCTAssertEqual(r.trades.reduce(0.0) { $0 + $1.commission }, r.totalCommission, accuracy: 1e-9, name)
            XCTAssertEqual(r.trades.reduce(0.0) { $0 + $1.slippage }, r.totalSlippage, accuracy: 1e-9, name)
        }
    }

    func testEquityIsCashPlusMarkedPositionAtEveryBar() throws {
        let series = Self.randomWalk(count: 2000, seed: 3)
        for (name, params) in strategies {
            let r = try Backtester.run(series: series, strategyName: name, parameters: params, config: config())
            var cash = r.initialBalance
            var tradeIndex = 0
            var inPosition = 0
            for i in 0..<series.count {
                let time = series.time[i], isLast = i == series.count - 1
                while tradeIndex < r.trades.count && r.trades[tradeIndex].exitTime <= time
                    && (r.trades[tradeIndex].exitReason != .endOfData || isLast)
                {
                    cash += r.trades[tradeIndex].pnl
                    tradeIndex += 1
                }
                var expected = cash
                if tradeIndex < r.trades.count, r.trades[tradeIndex].entryTime <= time {
                    let t = r.trades[tradeIndex]
                    let entryCommission = t.size * t.entryPrice * r.config.commissionRate
                    expected += t.side.sign * t.size * (series.close[i] - t.entryPrice) - entryCommission
                    inPosition += 1
                } else if isLast, let t = r.trades.last, t.exitReason == .endOfData {
                    inPosition += 1
                }
                XCTAssertEqual(r.equityValues[i], expected, accuracy: 1e-6, "\(name) bar \(i)")
            }
            XCTAssertEqual(tradeIndex, r.trades.count, name)
            XCTAssertEqual(r.barsInPosition, inPosition, name)
        }
    }

    func testCuttingOffFutureBarsNeverChangesEarlierDecisions() throws {
        let series = Self.randomWalk(count: 1500, seed: 5)
        for (name, params) in strategies {
            let full = try Backtester.run(series: series, strategyName: name, parameters: params, config: config())
            for cut in [60, 333, 700, 1201] {
                let part = try Backtester.run(
                    series: series.prefix(cut), strategyName: name, parameters: params,
                    config: config())
                let lastTime = series.time[cut - 1]
                XCTAssertEqual(
                    Array(part.equityValues[0..<(cut - 1)]), Array(full.equityValues[0..<(cut - 1)]), "\(name) cut \(cut)")
                XCTAssertEqual(
                    part.trades.filter { $0.exitTime < lastTime }, full.trades.filter { $0.exitTime < lastTime },
                    "\(name) cut \(cut)")
            }
        }
    }

    func testTradesDoNotOverlapAndStayInsideTheData() throws {
        let series = Self.randomWalk(count: 2000, seed: 9)
        for (name, params) in strategies {
            let r = try Backtester.run(series: series, strategyName: name, parameters: params, config: config(risk: nil))
            var lastExit = Int64.min
            for t in r.trades {
                XCTAssertGreaterThanOrEqual(t.entryTime, lastExit, name)
                XCTAssertLessThanOrEqual(t.entryTime, t.exitTime, name)
                XCTAssertGreaterThan(t.size, 0, name)
                lastExit = t.exitTime
            }
            XCTAssertEqual(r.equityValues.count, series.count)
        }
    }

    func testSMACrossMatchesAnIndependentReference() throws {
        let series = Self.randomWalk(count: 1500, seed: 21)
        let closes = series.close, fastN = 5, slowN = 12
        func sma(_ n: Int, _ i: Int) -> Double? { i + 1 >= n ? closes[(i + 1 - n)...i].reduce(0, +) / Double(n) : nil }
        // Reference: entries/exits decided at bar i's close, filled at bar i+1's open; all-in long.
        var expectedEntries: [Int64] = [], expectedExits: [Int64] = []
        var inPosition = false
        for i in 1..<(closes.count - 1) {
            guard let f0 = sma(fastN, i - 1), let s0 = sma(slowN, i - 1), let f1 = sma(fastN, i), let s1 = sma(slowN, i)
            else { continue }
            if !inPosition && f0 < s0 && f1 > s1 {
                inPosition = true; expectedEntries.append(series.time[i + 1])
            } else if inPosition && f0 > s0 && f1 < s1 {
                inPosition = false; expectedExits.append(series.time[i + 1])
            }
        }
        let r = try Backtester.run(
            series: series, strategyName: "sma_cross", parameters: ["fast": 5, "slow": 12],
            config: BacktestConfig(commissionRate: 0.001, risk: nil))
        XCTAssertEqual(r.trades.map(\.entryTime), expectedEntries)
        XCTAssertEqual(r.trades.filter { $0.exitReason == .signal }.map(\.exitTime), expectedExits)
        for t in r.trades {
            let k = series.time.firstIndex(of: t.entryTime)!
            XCTAssertEqual(t.entryPrice, series.open[k])
        }
    }
}
