import XCTest

@testable import TradingCore

/// The risk guard inside the backtester, as live.
final class BacktesterRiskTests: XCTestCase {
    private func config(risk: RiskConfig, riskPerTrade: Double) -> BacktestConfig {
        BacktestConfig(
            initialBalance: 10_000, commissionRate: 0, slippageRate: 0,
            sizing: SizingConfig(riskPerTrade: riskPerTrade, useSuggestedWeight: false), risk: risk)
    }

    func testDrawdownKillSwitchStopsNewEntriesForTheRestOfTheRun() throws {
        // Entry 100, stop 80 → R 20; 20 % risk → 100 units (all the cash). The stop costs 2 000 = 20 %
        // drawdown ≥ 10 % → every later signal is refused.
        let rows: [(Double, Double, Double, Double)] = [
            (100, 101, 99, 100), (100, 101, 99, 100), (90, 91, 79, 85),
            (85, 86, 84, 85), (85, 86, 84, 85), (85, 86, 84, 85),
        ]
        let r = try runScript(
            rows, [0: entry(stop: 80), 2: entry(price: 85, stop: 80), 3: entry(price: 85, stop: 80)],
            config: config(risk: RiskConfig(dailyLossLimit: 1, maxDrawdown: 0.1), riskPerTrade: 0.2))
        XCTAssertEqual(r.trades.count, 1)
        XCTAssertEqual(r.trades[0].pnl, -2000)
        XCTAssertEqual(r.rejectedSignals, ["MAX_DRAWDOWN_KILL_SWITCH": 2])
        XCTAssertEqual(r.signalsGenerated, 3)
    }

    func testDailyLossLimitBlocksUntilTheNextUTCDay() throws {
        // Hourly bars. Entry 100, stop 95 → R 5; 5 % risk → 100 units. The stop at 01:00 loses 500 = 5 %
        // of the day's starting equity: signals at 01:00 and 02:00 are refused, the one at 00:00 the
        // next day is allowed and fills at 01:00.
        let start: Int64 = 1_704_067_200_000
        let hours: [Int64] = [0, 1, 2, 24, 25, 26]
        let rows: [(Double, Double, Double, Double)] = [
            (100, 101, 99, 100), (100, 100, 94, 95), (95, 96, 94, 95),
            (95, 96, 94, 95), (95, 97, 94, 96), (96, 97, 95, 96),
        ]
        let series = BarSeries(
            bars: zip(hours, rows).map { h, r in
                Bar(time: start + h * 3_600_000, open: r.0, high: r.1, low: r.2, close: r.3, volume: 1)
            })
        let script: [Int: StrategyDecision] = [
            0: entry(stop: 95), 1: entry(price: 95, stop: 90),
            2: entry(price: 95, stop: 90), 3: entry(price: 95, stop: 90),
        ]
        let r = try Backtester.run(
            series: series, strategy: ScriptedStrategy(script),
            config: config(risk: RiskConfig(dailyLossLimit: 0.05, maxDrawdown: 0.5), riskPerTrade: 0.05))
        XCTAssertEqual(r.rejectedSignals, ["DAILY_LOSS_LIMIT": 2])
        XCTAssertEqual(r.trades.map(\.entryTime), [start + 3_600_000, start + 25 * 3_600_000])
        XCTAssertEqual(r.trades[0].exitReason, .stopLoss)
    }

    func testSignalWhilePositionIsOpenIsCountedAsMarketAlreadyOpen() throws {
        let rows = [(Double, Double, Double, Double)](repeating: (100, 101, 99, 100), count: 4)
        let r = try runScript(
            rows, [0: entry(stop: 90), 1: entry(stop: 90)],
            config: config(risk: RiskConfig(), riskPerTrade: 0.01))
        XCTAssertEqual(r.trades.count, 1)
        XCTAssertEqual(r.rejectedSignals, ["MARKET_ALREADY_OPEN": 1])
    }
}

/// The arbiter inside the backtester, as live (rule score only: no ML/LLM in a backtest).
final class BacktesterArbiterTests: XCTestCase {
    func testEntriesUnderTheThresholdAreNotTakenWhenTheArbiterIsOn() throws {
        // Default arbiter: threshold 60 on the rule score alone. Score 59 is rejected, 60 taken.
        let rows = [(Double, Double, Double, Double)](repeating: (100, 101, 99, 100), count: 6)
        var config = plainConfig()
        config.arbiter = .default
        let r = try runScript(rows, [0: entry(stop: 90, score: 59), 2: entry(stop: 90, score: 60)], config: config)
        XCTAssertEqual(r.rejectedSignals, [Backtester.arbiterRejected: 1])
        XCTAssertEqual(r.trades.map(\.entryTime), [r.equityTimes[3]])
        let off = try runScript(rows, [0: entry(stop: 90, score: 59)], config: plainConfig())
        XCTAssertEqual(off.trades.count, 1, "without the arbiter every entry is taken")
    }
}
