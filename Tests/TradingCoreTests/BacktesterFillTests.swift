import XCTest

@testable import TradingCore

/// Hand-computed fill rules of SPEC §8. Sizes: 10 000 × 1 % / R.
final class BacktesterFillTests: XCTestCase {
    private func t(_ k: Int) -> Int64 { 1_704_067_200_000 + Int64(k) * dayMs }

    func testMarketOrderFillsAtNextOpenAndEndOfDataAtLastClose() throws {
        // Decided on bar 0's close (100), filled at bar 1's open 102; stop 92 → R 10 → 10 units.
        let r = try runScript(
            [(100, 101, 99, 100), (102, 104, 101, 103), (103, 105, 102, 104)],
            [0: entry(stop: 92, target: 120)])
        XCTAssertEqual(
            r.trades,
            [
                Trade(
                    entryTime: t(1), exitTime: t(2), side: .buy, entryPrice: 102, exitPrice: 104,
                    size: 10, pnl: 20, commission: 0, slippage: 0, exitReason: .endOfData)
            ])
        XCTAssertEqual(r.equityValues, [10_000, 10_010, 10_020])
        XCTAssertEqual(r.equityTimes, [t(0), t(1), t(2)])
        XCTAssertEqual(r.finalBalance, 10_020)
        XCTAssertEqual(r.barsInPosition, 2)
        XCTAssertEqual(r.exposurePct, 200.0 / 3, accuracy: 1e-12)
    }

    func testBuyStopEntryFillsAtItsLevelInsideTheBar() throws {
        let r = try runScript(
            [(100, 101, 99, 100), (102, 106, 101, 105.5), (105, 108, 104, 107)],
            [0: entry(order: .stop(level: 105), price: 105, stop: 95)])
        XCTAssertEqual(r.trades.count, 1)
        XCTAssertEqual(r.trades[0].entryPrice, 105)
        XCTAssertEqual(r.trades[0].entryTime, t(1))
        XCTAssertEqual(r.trades[0].size, 10)
        XCTAssertEqual(r.trades[0].pnl, 20)
    }

    func testBuyStopEntryGapFillsAtTheOpen() throws {
        let r = try runScript(
            [(100, 101, 99, 100), (107, 108, 106, 107), (107, 111, 106, 110)],
            [0: entry(order: .stop(level: 105), price: 105, stop: 97)])
        XCTAssertEqual(r.trades.first?.entryPrice, 107)
        XCTAssertEqual(r.trades.first?.size, 10)  // R measured from the fill: 107 − 97
        XCTAssertEqual(r.trades.first?.pnl, 30)
    }

    func testStopEntryNotReachedOnTheNextBarIsCancelled() throws {
        let r = try runScript(
            [(100, 101, 99, 100), (102, 104, 101, 103), (103, 106, 102, 105)],
            [0: entry(order: .stop(level: 105), price: 105, stop: 95)])
        XCTAssertEqual(r.trades, [])
        XCTAssertEqual(r.equityValues, [10_000, 10_000, 10_000])
        XCTAssertEqual(r.finalBalance, 10_000)
    }

    func testSellStopEntryAndShortProfit() throws {
        // Sell stop at 95 reached inside bar 1; stop 105 → R 10 → 10 units; last close 90.
        let r = try runScript(
            [(100, 101, 96, 97), (97, 98, 94, 95), (95, 96, 89, 90)],
            [0: entry(.sell, order: .stop(level: 95), price: 95, stop: 105)])
        XCTAssertEqual(r.trades.first?.side, .sell)
        XCTAssertEqual(r.trades.first?.entryPrice, 95)
        XCTAssertEqual(r.trades.first?.pnl, 50)
        XCTAssertEqual(r.equityValues, [10_000, 10_000, 10_050])
    }

    private let entryBars: [(Double, Double, Double, Double)] = [(100, 101, 99, 100), (100, 103, 99, 101)]

    func testBarTouchingStopAndTargetFillsTheStop() throws {
        // Entry 100, stop 95 (R 5 → 20 units), target 110; bar 2 spans 94…111.
        let r = try runScript(
            entryBars + [(101, 111, 94, 105), (105, 106, 104, 105)],
            [0: entry(stop: 95, target: 110)])
        XCTAssertEqual(r.trades.first?.exitPrice, 95)
        XCTAssertEqual(r.trades.first?.exitReason, .stopLoss)
        XCTAssertEqual(r.trades.first?.pnl, -100)
        XCTAssertEqual(r.trades.first?.exitTime, t(2))
    }

    func testTargetInsideTheBar() throws {
        let r = try runScript(entryBars + [(101, 111, 100, 108)], [0: entry(stop: 95, target: 110)])
        XCTAssertEqual(r.trades.first?.exitPrice, 110)
        XCTAssertEqual(r.trades.first?.exitReason, .profitTarget)
        XCTAssertEqual(r.trades.first?.pnl, 200)
    }

    func testGapThroughTheStopFillsAtTheOpen() throws {
        let r = try runScript(entryBars + [(93, 96, 92, 95)], [0: entry(stop: 95, target: 110)])
        XCTAssertEqual(r.trades.first?.exitPrice, 93)
        XCTAssertEqual(r.trades.first?.exitReason, .stopLoss)
        XCTAssertEqual(r.trades.first?.pnl, -140)
    }

    func testGapThroughTheTargetFillsAtTheOpen() throws {
        let r = try runScript(entryBars + [(112, 113, 111, 112)], [0: entry(stop: 95, target: 110)])
        XCTAssertEqual(r.trades.first?.exitPrice, 112)
        XCTAssertEqual(r.trades.first?.exitReason, .profitTarget)
        XCTAssertEqual(r.trades.first?.pnl, 240)
    }

    func testStopIsCheckedOnTheEntryBar() throws {
        let r = try runScript([(100, 101, 99, 100), (100, 101, 94, 96), (96, 97, 95, 96)], [0: entry(stop: 95)])
        XCTAssertEqual(r.trades.first?.entryTime, t(1))
        XCTAssertEqual(r.trades.first?.exitTime, t(1))
        XCTAssertEqual(r.trades.first?.exitPrice, 95)
        XCTAssertEqual(r.equityValues, [10_000, 9_900, 9_900])
    }

    func testShortStopWinsOverTarget() throws {
        let r = try runScript(entryBars + [(99, 106, 89, 100)], [0: entry(.sell, stop: 105, target: 90)])
        XCTAssertEqual(r.trades.first?.exitPrice, 105)
        XCTAssertEqual(r.trades.first?.pnl, -100)
    }

    func testTrailingStopArmsAfterOneRAndRatchets() throws {
        // Entry 100, stop 90 (R 10, 10 units), trailing 2 × ATR 5 = 10.
        // Bar 2 high 112 ≥ 110 arms it: stop 102; bar 3 high 115: stop 105; bar 4 low 104 hits 105.
        let rows: [(Double, Double, Double, Double)] = [
            (100, 101, 99, 100), (100, 105, 99, 104), (104, 112, 103, 111),
            (111, 115, 108, 114), (114, 114, 104, 106), (106, 107, 105, 106),
        ]
        let r = try runScript(rows, [0: entry(stop: 90, atr: 5, trail: 2)])
        XCTAssertEqual(r.trades.count, 1)
        XCTAssertEqual(r.trades[0].exitPrice, 105)
        XCTAssertEqual(r.trades[0].exitReason, .trailingStop)
        XCTAssertEqual(r.trades[0].exitTime, t(4))
        XCTAssertEqual(r.trades[0].pnl, 50)
    }

    func testTrailingStopStaysOffBeforeOneR() throws {
        // Highs only reach 109 (< 1R): the stop stays at 90 and the run ends at the last close.
        let rows: [(Double, Double, Double, Double)] = [(100, 101, 99, 100), (100, 109, 99, 108), (108, 109, 92, 93)]
        let r = try runScript(rows, [0: entry(stop: 90, atr: 1, trail: 1)])
        XCTAssertEqual(r.trades.first?.exitReason, .endOfData)
        XCTAssertEqual(r.trades.first?.exitPrice, 93)
    }

    func testStrategyExitFillsAtNextOpen() throws {
        let rows: [(Double, Double, Double, Double)] = [
            (100, 101, 99, 100), (100, 103, 99, 102), (104, 105, 103, 104), (105, 106, 104, 105),
        ]
        let r = try runScript(rows, [0: entry(stop: 90), 1: .exit])
        XCTAssertEqual(r.trades.first?.exitPrice, 104)
        XCTAssertEqual(r.trades.first?.exitTime, t(2))
        XCTAssertEqual(r.trades.first?.exitReason, .signal)
        XCTAssertEqual(r.finalBalance, 10_040)
    }

    func testCommissionAndSlippageOnBothLegs() throws {
        // Buy at open 100 slips to 100.1; stop 90.1 → R 10 → 10 units. Entry commission 1.001,
        // slippage 1.0. Exit at last close 110 slips to 109.89; commission 1.0989, slippage 1.1.
        // pnl = 10 × (109.89 − 100.1) − 1.001 − 1.0989 = 95.8001.
        let r = try runScript(
            [(100, 101, 99, 100), (100, 111, 99, 110)], [0: entry(stop: 90.1)],
            config: plainConfig(commission: 0.001, slippage: 0.001))
        let trade = try XCTUnwrap(r.trades.first)
        XCTAssertEqual(trade.entryPrice, 100.1, accuracy: 1e-12)
        XCTAssertEqual(trade.exitPrice, 109.89, accuracy: 1e-12)
        XCTAssertEqual(trade.size, 10, accuracy: 1e-9)
        XCTAssertEqual(trade.commission, 2.0999, accuracy: 1e-9)
        XCTAssertEqual(trade.slippage, 2.1, accuracy: 1e-9)
        XCTAssertEqual(trade.pnl, 95.8001, accuracy: 1e-9)
        XCTAssertEqual(r.totalCommission, 2.0999, accuracy: 1e-9)
        XCTAssertEqual(r.totalSlippage, 2.1, accuracy: 1e-9)
        XCTAssertEqual(r.finalBalance, 10_095.8001, accuracy: 1e-9)
    }

    func testShortSlippageMovesBothFillsAgainstTheTrader() throws {
        // Sell at 100 fills 99.9; buy back at close 90 fills 90.09. Stop 109.9 → R 10 → 10 units.
        let r = try runScript(
            [(100, 101, 99, 100), (100, 101, 89, 90)], [0: entry(.sell, stop: 109.9)],
            config: plainConfig(slippage: 0.001))
        XCTAssertEqual(r.trades.first!.entryPrice, 99.9, accuracy: 1e-12)
        XCTAssertEqual(r.trades.first!.exitPrice, 90.09, accuracy: 1e-12)
        XCTAssertEqual(r.trades.first!.pnl, 98.1, accuracy: 1e-9)
        XCTAssertEqual(r.totalSlippage, 0.1 * 10 + 0.09 * 10, accuracy: 1e-9)
    }

    func testWeightSizingIsCappedByCashIncludingCommission() throws {
        // Score 100 → weight 1.0 → wanted 10 000 / 100 = 100 units; the cap is 10 000 / (100 × 1.001).
        var config = plainConfig(commission: 0.001)
        config.sizing.useSuggestedWeight = true
        let r = try runScript([(100, 101, 99, 100), (100, 101, 99, 100)], [0: entry(stop: 90, score: 100)], config: config)
        XCTAssertEqual(r.trades.first!.size, 10_000 / 100.1, accuracy: 1e-9)
        XCTAssertGreaterThanOrEqual(r.finalBalance, 0)
    }

    func testEntryDecidedOnTheLastBarIsNeverFilled() throws {
        let r = try runScript([(100, 101, 99, 100), (100, 101, 99, 100)], [1: entry(stop: 90)])
        XCTAssertEqual(r.trades, [])
    }

    func testRiskGuardRejectsLowRewardRisk() throws {
        var config = plainConfig()
        config.risk = RiskConfig(minRewardRisk: 1.5)
        let r = try runScript(
            [(100, 101, 99, 100), (100, 101, 99, 100), (100, 101, 99, 100)],
            [0: entry(stop: 90, target: 110)], config: config)  // 1R target
        XCTAssertEqual(r.trades, [])
        XCTAssertEqual(r.rejectedSignals, ["MIN_REWARD_RISK": 1])
        XCTAssertEqual(r.signalsGenerated, 1)
    }

    func testProgressIsReportedAndCancellationStopsTheRun() {
        let rows = [(Double, Double, Double, Double)](repeating: (100, 101, 99, 100), count: 10)
        var config = plainConfig()
        config.progressInterval = 2
        var seen: [Int] = []
        XCTAssertThrowsError(
            try Backtester.run(series: dailyBars(rows), strategy: ScriptedStrategy([:]), config: config) { p in
                seen.append(p.processedBars)
                return seen.count < 2
            }
        ) { XCTAssertEqual($0 as? BacktestError, .cancelled(processedBars: 4)) }
        XCTAssertEqual(seen, [2, 4])
    }

    func testEmptySeriesIsAnError() {
        XCTAssertThrowsError(try Backtester.run(series: BarSeries(), strategyName: "sma_cross")) {
            XCTAssertEqual($0 as? BacktestError, .noData)
        }
    }

    func testRunByNameValidatesStrategyAndParameters() {
        let series = dailyBars([(100, 101, 99, 100)])
        XCTAssertThrowsError(try Backtester.run(series: series, strategyName: "nope")) {
            XCTAssertEqual($0 as? StrategyError, .unknownStrategy(name: "nope", known: ["oops", "pullback", "sma_cross"]))
        }
        XCTAssertThrowsError(try Backtester.run(series: series, strategyName: "sma_cross", parameters: ["fast": 30]))
        XCTAssertNoThrow(try Backtester.run(series: series, strategyName: "sma_cross", parameters: ["fast": 5]))
    }
}
