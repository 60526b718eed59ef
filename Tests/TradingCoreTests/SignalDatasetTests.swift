import XCTest

@testable import TradingCore

final class SignalDatasetTests: XCTestCase {
    /// Commission 0.1 %, weight sizing from the rule score, no risk guard.
    private let costs = BacktestConfig(commissionRate: 0.001, risk: nil)

    private func dataset(
        _ rows: [(Double, Double, Double, Double)], _ script: [Int: StrategyDecision],
        config: BacktestConfig
    ) throws -> [(signal: LabeledSignal, exitBar: Int)] {
        try SignalDataset.build(
            series: dailyBars(rows), strategy: ScriptedStrategy(script), config: config, progress: { _ in true })
    }

    func testATargetHitIsAWinLikeTheBacktestersTrade() throws {
        let rows: [(Double, Double, Double, Double)] = [
            (100.0, 101, 99, 100), (100, 102, 99, 101), (101, 106, 100, 105), (105, 105, 105, 105),
        ]
        let script = [0: entry(stop: 95, target: 105, score: 80)]
        let got = try dataset(rows, script, config: costs)
        XCTAssertEqual(got.count, 1)
        XCTAssertEqual(got[0].signal.label, 1)
        XCTAssertEqual(got[0].signal.time, dailyBars(rows).time[0])
        XCTAssertEqual(got[0].exitBar, 2)
        let trade = try XCTUnwrap(try runScript(rows, script, config: costs).trades.first)
        XCTAssertEqual(trade.exitReason, .profitTarget)
        XCTAssertGreaterThan(trade.pnl, 0)
    }

    func testAGainSmallerThanTheCommissionIsALoss() throws {
        // In at 100 (bar 1's open), the strategy exits on bar 1's close, out at bar 2's open 100.1:
        // +0.1 per unit gross, 0.2001 per unit commission.
        let rows: [(Double, Double, Double, Double)] = [
            (100.0, 101, 99, 100), (100, 101, 99, 100), (100.1, 101, 99, 100), (100, 100, 100, 100),
        ]
        let script: [Int: StrategyDecision] = [0: entry(score: 80), 1: .exit]
        let got = try dataset(rows, script, config: costs)
        XCTAssertEqual(got.map(\.signal.label), [0])
        XCTAssertEqual(got[0].exitBar, 2)
        let trade = try XCTUnwrap(try runScript(rows, script, config: costs).trades.first)
        XCTAssertEqual(trade.exitReason, .signal)
        XCTAssertGreaterThan(trade.exitPrice, trade.entryPrice)
        XCTAssertLessThan(trade.pnl, 0)
        // Without commission the same trade wins.
        XCTAssertEqual(try dataset(rows, script, config: BacktestConfig(commissionRate: 0, risk: nil)).map(\.signal.label), [1])
    }

    func testAStopEntryTheNextBarNeverReachesIsLeftOut() throws {
        let rows: [(Double, Double, Double, Double)] = [(100.0, 101, 99, 100), (100, 104, 99, 103), (103, 110, 102, 109)]
        let script = [0: entry(order: .stop(level: 105), price: 105, stop: 99, target: 111, score: 80)]
        XCTAssertTrue(try dataset(rows, script, config: costs).isEmpty)
        XCTAssertTrue(try runScript(rows, script, config: costs).trades.isEmpty)
        // A signal on the last bar has no bar to fill on either.
        XCTAssertTrue(try dataset(rows, [2: entry(stop: 90, score: 80)], config: costs).isEmpty)
    }

    func testAStopEntryGappedThroughFillsAtTheOpen() throws {
        // Buy stop at 105; bar 1 opens at 107 (gap): in at 107. Stop 104, target 112 hit on bar 2.
        let rows: [(Double, Double, Double, Double)] = [
            (100.0, 101, 99, 100), (107, 108, 106, 107.5), (108, 113, 107, 112), (112, 112, 112, 112),
        ]
        let script = [0: entry(order: .stop(level: 105), price: 105, stop: 104, target: 112, score: 80)]
        let got = try dataset(rows, script, config: costs)
        XCTAssertEqual(got.map(\.signal.label), [1])
        XCTAssertEqual(got[0].exitBar, 2)
        XCTAssertEqual(got[0].signal.features[MLFeatures.index(of: "stop_entry")!], 1)
        let trade = try XCTUnwrap(try runScript(rows, script, config: costs).trades.first)
        XCTAssertEqual(trade.entryPrice, 107)
        // With a target of 106 the gapped entry is already past it: out at the entry bar's open, a loss.
        let early = [0: entry(order: .stop(level: 105), price: 105, stop: 104, target: 106, score: 80)]
        XCTAssertEqual(try dataset(rows, early, config: costs).map(\.exitBar), [1])
        XCTAssertEqual(try dataset(rows, early, config: costs).map(\.signal.label), [0])
        XCTAssertLessThan(try XCTUnwrap(try runScript(rows, early, config: costs).trades.first).pnl, 0)
    }

    func testOverlappingSignalsAreEachLabelledByTheirOwnTrade() throws {
        // Signal 0 is in from 100 with stop 95; signal 1 (decided on bar 1) enters at 96 on bar 2 with
        // stop 93. Bar 3 falls to 94: signal 0's stop is hit, signal 1's is not; it ends at 98.5.
        let rows: [(Double, Double, Double, Double)] = [
            (100.0, 101, 99, 100), (100, 101, 96, 96), (96, 97, 95.5, 96.5), (96.5, 97, 94, 96), (96, 99, 96, 98.5),
        ]
        let script = [0: entry(stop: 95, score: 80), 1: entry(price: 96, stop: 93, score: 80)]
        let got = try dataset(rows, script, config: costs)
        XCTAssertEqual(got.map(\.signal.label), [0, 1])
        XCTAssertEqual(got.map(\.exitBar), [3, 4])  // a stop loss, then END_OF_DATA at 98.5
        // The backtester takes only the first (the market already has a position).
        XCTAssertEqual(try runScript(rows, script, config: costs).trades.count, 1)
    }

    func testCuttingBarsAfterASignalsExitNeverChangesItsRow() throws {
        let series = SyntheticMarket.generate(.btcusdt, bars: 4_000, seed: 11)
        for name in StrategyRegistry.names {
            let strategy = { try StrategyRegistry.make(name: name) }
            let full = try SignalDataset.build(series: series, strategy: strategy(), config: costs, progress: { _ in true })
            XCTAssertGreaterThan(full.count, 5, name)
            for cut in stride(from: 300, through: 4_000, by: 421) {
                let part = try SignalDataset.build(
                    series: series.prefix(cut), strategy: strategy(), config: costs, progress: { _ in true })
                for (k, row) in part.enumerated() {
                    // Features never change; labels only for trades the cut ended early.
                    XCTAssertEqual(row.signal.features.count, MLFeatures.count)
                    var expected = full[k].signal
                    if full[k].exitBar >= cut { expected.label = row.signal.label }
                    XCTAssertEqual(row.signal, expected, "\(name) cut \(cut) row \(k)")
                }
            }
        }
    }

    func testLabelsMatchTheBacktestersTradesWhereTheyCoincide() throws {
        let series = SyntheticMarket.generate(.btcusdt, bars: 5_000, seed: 5)
        for name in StrategyRegistry.names {
            let rows = try SignalDataset.build(series: series, strategy: name, parameters: [:], config: costs)
            let result = try Backtester.run(series: series, strategyName: name, config: costs)
            XCTAssertFalse(result.trades.isEmpty, name)
            let byTime = Dictionary(rows.map { ($0.time, $0.label) }, uniquingKeysWith: { a, _ in a })
            let step = series.time[1] - series.time[0]
            for trade in result.trades {
                // The trade's signal was decided on the bar before its entry.
                XCTAssertEqual(byTime[trade.entryTime - step], trade.pnl > 0 ? 1 : 0, "\(name) \(trade.entryTime)")
            }
        }
    }

    func testRowsKeepOrderAndCancellationStops() throws {
        let series = SyntheticMarket.generate(.btcusdt, bars: 3_000, seed: 2)
        let signals = try SignalDataset.build(series: series, strategy: "pullback", parameters: [:], config: costs)
        let rows = SignalDataset.rows(signals)
        XCTAssertEqual(rows.count, signals.count)
        XCTAssertEqual(rows.times, signals.map(\.time))
        XCTAssertEqual(rows.labels, signals.map(\.label))
        XCTAssertEqual(rows.features.columns, MLFeatures.count)
        var config = costs
        config.progressInterval = 100
        XCTAssertThrowsError(
            try SignalDataset.build(series: series, strategy: "pullback", parameters: [:], config: config) { $0 < 0.5 }
        ) { XCTAssertEqual($0 as? BacktestError, .cancelled(processedBars: 1_500)) }
        XCTAssertThrowsError(try SignalDataset.build(series: series, strategy: "nope", parameters: [:], config: costs))
    }
}
