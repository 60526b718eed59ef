import XCTest

@testable import TradingCore

/// Every metric on a tiny curve worked out by hand.
final class MetricsTests: XCTestCase {
    static let day: Int64 = 86_400_000
    static let hour: Int64 = 3_600_000
    /// Daily bars; equity 100 → 110 → 99 → 99 → 108.9
    /// returns: +0.10, −0.10 (99/110 − 1), 0, +0.10 (108.9/99 − 1)
    let times: [Int64] = (0..<5).map { Int64($0) * MetricsTests.day }
    let equity: [Double] = [100, 110, 99, 99, 108.9]

    func testReturnsAndBarFrequency() {
        let r = EquityStatistics.returns(equity)
        XCTAssertEqual(r.count, 4)
        for (got, want) in zip(r, [0.1, -0.1, 0, 0.1]) { XCTAssertEqual(got, want, accuracy: 1e-12) }
        // Daily bars: 365 per year.
        XCTAssertEqual(EquityStatistics.barsPerYear(times)!, 365, accuracy: 1e-9)
        // Hourly bars with one 3-hour gap: gaps 1h,1h,3h,1h → median 1h → 8760 bars a year.
        let gappy: [Int64] = [0, 1, 2, 5, 6].map { $0 * MetricsTests.hour }
        XCTAssertEqual(EquityStatistics.medianBarSpacing(gappy), Double(MetricsTests.hour))
        XCTAssertEqual(EquityStatistics.barsPerYear(gappy)!, 8760, accuracy: 1e-9)
        XCTAssertNil(EquityStatistics.barsPerYear([0]))
    }

    func testSharpeSortinoOmega() {
        let r = EquityStatistics.returns(equity)
        // mean = (0.1 − 0.1 + 0 + 0.1) / 4 = 0.025
        // deviations 0.075, −0.125, −0.025, 0.075 → squares sum 0.005625+0.015625+0.000625+0.005625
        //   = 0.0275; sample variance 0.0275 / 3; Sharpe = 0.025 / √(0.0275/3) × √365 ≈ 0.261116 × 19.104973 ≈ 4.98862
        let sharpe = EquityStatistics.sharpe(returns: r, barsPerYear: 365)!
        XCTAssertEqual(sharpe, 0.025 / (0.0275 / 3).squareRoot() * 365.0.squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(sharpe, 4.98862, accuracy: 1e-4)
        // downside: only −0.1 → Σ min(r,0)² = 0.01, / 4 returns = 0.0025, √ = 0.05
        // Sortino = 0.025 / 0.05 × √365 = 0.5 × 19.10497 ≈ 9.55249
        let sortino = EquityStatistics.sortino(returns: r, barsPerYear: 365)!
        XCTAssertEqual(sortino, 9.55249, accuracy: 1e-4)
        // Omega: gains 0.1 + 0.1 = 0.2, losses 0.1 → 2
        XCTAssertEqual(EquityStatistics.omega(returns: r)!, 2, accuracy: 1e-9)
    }

    func testStreamingRatiosMatchTheFormulas() {
        let (sharpe, sortino, omega) = EquityStatistics.returnRatios(equity: equity, barsPerYear: 365)
        XCTAssertEqual(sharpe!, 4.98862, accuracy: 1e-4)
        XCTAssertEqual(sortino!, 9.55249, accuracy: 1e-4)
        XCTAssertEqual(omega!, 2, accuracy: 1e-9)
        let flat = EquityStatistics.returnRatios(equity: [5, 5, 5], barsPerYear: 365)
        XCTAssertNil(flat.sharpe)
        XCTAssertNil(flat.sortino)
        XCTAssertNil(flat.omega)
    }

    func testMedianSpacingWithManyDistinctGaps() {
        // Gaps 1, 2, ..., 40 (more distinct values than the histogram keeps): median of 40 gaps
        // is the mean of the 20th and 21st smallest = (20 + 21) / 2.
        var t: [Int64] = [0]
        for g in 1...40 { t.append(t.last! + Int64(g)) }
        XCTAssertEqual(EquityStatistics.medianBarSpacing(t), 20.5)
        // Gaps 5, 1, 1, 7 → sorted 1, 1, 5, 7 → (1 + 5) / 2 = 3.
        XCTAssertEqual(EquityStatistics.medianBarSpacing([0, 5, 6, 7, 14]), 3)
    }

    func testUndefinedRatiosAreNil() {
        let flat = EquityStatistics.returns([100, 100, 100])
        XCTAssertNil(EquityStatistics.sharpe(returns: flat, barsPerYear: 365), "zero deviation")
        let rising = EquityStatistics.returns([100, 101, 102])
        XCTAssertNil(EquityStatistics.sortino(returns: rising, barsPerYear: 365), "no downside")
        XCTAssertNil(EquityStatistics.omega(returns: rising), "no losses")
        XCTAssertNil(EquityStatistics.sharpe(returns: [0.1], barsPerYear: 365), "one return")
    }

    func testDrawdownAndDuration() {
        // Peak 110 at bar 1, trough 99 → (110 − 99) / 110 = 10 %; never back to 110, so the
        // underwater stretch runs from bar 1 to the last bar 4: 3 bars = 3 days.
        let dd = EquityStatistics.drawdown(times: times, equity: equity)
        XCTAssertEqual(dd.maxPercent, 10, accuracy: 1e-9)
        XCTAssertEqual(dd.longestBars, 3)
        XCTAssertEqual(dd.longestMilliseconds, 3 * MetricsTests.day)
        // 100, 80 (−20 %), 100 (recovered at bar 2), 120, 114 (−5 %), 114
        // stretches: bar 0 → 2 (2 bars), bar 3 → end 5 (2 bars); the first one is kept.
        let t6 = (0..<6).map { Int64($0) * MetricsTests.day }
        let dd2 = EquityStatistics.drawdown(times: t6, equity: [100, 80, 100, 120, 114, 114])
        XCTAssertEqual(dd2.maxPercent, 20, accuracy: 1e-9)
        XCTAssertEqual(dd2.longestBars, 2)
        XCTAssertEqual(dd2.longestMilliseconds, 2 * MetricsTests.day)
        // Only rising: no drawdown at all.
        let up = EquityStatistics.drawdown(times: [0, 1, 2], equity: [1, 2, 3])
        XCTAssertEqual(up, .init(maxPercent: 0, longestBars: 0, longestMilliseconds: 0))
    }

    func testAnnualizedReturnAndCalmar() {
        // 5 daily points span 4 days = 4/365 years: CAGR = 1.089^(365/4) − 1
        let cagr = EquityStatistics.annualizedReturn(times: times, equity: equity)!
        XCTAssertEqual(cagr, pow(1.089, 365.0 / 4) - 1, accuracy: 1e-6)
        // 110 after one year of 365 daily bars (366 points): exactly 10 % a year.
        var year = [Double](repeating: 100, count: 366)
        year[365] = 110
        let yearTimes = (0..<366).map { Int64($0) * MetricsTests.day }
        XCTAssertEqual(EquityStatistics.annualizedReturn(times: yearTimes, equity: year)!, 0.1, accuracy: 1e-12)
        // Weekday-only bars: 100 → 121 over two calendar years (first and last bar 730 days
        // apart), whatever the bar count: √1.21 − 1 = 10 % a year.
        XCTAssertEqual(
            EquityStatistics.annualizedReturn(
                times: [0, 3 * MetricsTests.day, 730 * MetricsTests.day],
                equity: [100, 90, 121])!, 0.1, accuracy: 1e-12)
        // Calmar = annualised return in % / max drawdown in %.
        let m = BacktestMetrics(trades: [], times: times, equity: equity, initialBalance: 100)
        XCTAssertEqual(m.annualizedReturn!, (pow(1.089, 365.0 / 4) - 1) * 100, accuracy: 1e-3)
        XCTAssertEqual(m.calmarRatio!, m.annualizedReturn! / 10, accuracy: 1e-6)
    }

    static func trade(
        _ entryBar: Int64, _ exitBar: Int64, pnl: Double,
        reason: ExitReason = .signal
    ) -> Trade {
        Trade(
            entryTime: entryBar * hour, exitTime: exitBar * hour, side: .buy, entryPrice: 10,
            exitPrice: 11, size: 1, pnl: pnl, commission: 1, slippage: 0.5, exitReason: reason)
    }

    func testTradeStatistics() {
        // pnl +30, −10, +20, −20, 0 (a breakeven counts in the total only)
        let trades = [30.0, -10, 20, -20, 0].enumerated().map {
            MetricsTests.trade(Int64($0.offset), Int64($0.offset) + 1, pnl: $0.element)
        }
        let t10 = (0..<10).map { Int64($0) * MetricsTests.hour }
        let m = BacktestMetrics(
            trades: trades, times: t10, equity: [Double](repeating: 1000, count: 10),
            initialBalance: 1000)
        XCTAssertEqual(m.totalTrades, 5)
        XCTAssertEqual(m.winningTrades, 2)
        XCTAssertEqual(m.losingTrades, 2)
        XCTAssertEqual(m.winRate, 40, accuracy: 1e-12)  // 2 / 5
        XCTAssertEqual(m.avgWin, 25, accuracy: 1e-12)  // (30 + 20) / 2
        XCTAssertEqual(m.avgLoss, -15, accuracy: 1e-12)  // (−10 − 20) / 2
        XCTAssertEqual(m.profitFactor!, 50.0 / 30.0, accuracy: 1e-12)
        XCTAssertEqual(m.expectancy, 4, accuracy: 1e-12)  // 20 / 5
        XCTAssertEqual(m.totalCommission, 5, accuracy: 1e-12)  // 5 × 1
        XCTAssertEqual(m.totalSlippage, 2.5, accuracy: 1e-12)  // 5 × 0.5
        XCTAssertEqual(m.finalBalance, 1020, accuracy: 1e-12)  // 1000 + 20
        XCTAssertEqual(m.roi, 2, accuracy: 1e-12)  // 20 / 1000
        XCTAssertNil(m.sharpeRatio, "flat equity has no Sharpe")
        XCTAssertNil(m.calmarRatio, "no drawdown, no Calmar")
    }

    func testProfitFactorNilWithoutLosses() {
        let m = BacktestMetrics(
            trades: [MetricsTests.trade(0, 1, pnl: 5)], times: [0, 1], equity: [10, 15],
            initialBalance: 10)
        XCTAssertNil(m.profitFactor)
        XCTAssertEqual(m.winRate, 100)
        XCTAssertEqual(m.avgLoss, 0)
    }

    func testExposure() {
        // 10 hourly bars. Trade A holds from bar 2 to its exit at bar 5 → bars 2, 3, 4.
        // Trade B enters at bar 7 and closes END_OF_DATA at bar 9's close → bars 7, 8, 9.
        // 6 of 10 bars = 60 %.
        let t10 = (0..<10).map { Int64($0) * MetricsTests.hour }
        let trades = [MetricsTests.trade(2, 5, pnl: 1), MetricsTests.trade(7, 9, pnl: 1, reason: .endOfData)]
        XCTAssertEqual(TradeStatistics.exposurePercent(trades, times: t10), 60, accuracy: 1e-12)
        // The backtester's own count, when given, wins.
        let m = BacktestMetrics(
            trades: trades, times: t10, equity: [Double](repeating: 1, count: 10),
            initialBalance: 1, exposurePct: 50)
        XCTAssertEqual(m.exposurePct, 50)
    }
}
