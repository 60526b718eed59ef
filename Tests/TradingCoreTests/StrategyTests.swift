import XCTest

@testable import TradingCore

final class StrategyRegistryTests: XCTestCase {
    func testRegistryNamesAndDefaults() throws {
        XCTAssertEqual(StrategyRegistry.names, ["oops", "pullback", "sma_cross"])
        let sma = try StrategyRegistry.descriptor(named: "sma_cross")
        XCTAssertEqual(try sma.resolve([:]).values, ["fast": 10, "slow": 20])
        XCTAssertEqual(try sma.resolve(["slow": 30]).values, ["fast": 10, "slow": 30])
        XCTAssertNoThrow(try StrategyRegistry.make(name: "pullback"))
        XCTAssertNoThrow(try StrategyRegistry.make(name: "oops", parameters: ["allow_short": 0]))
    }

    func testLatestDecisionRunsTheStrategyOverTheWholeSeries() throws {
        let closes: [Double] = [10, 10, 10, 9, 8, 12]  // fast(2)/slow(3) cross up on the last bar
        let series = BarSeries(
            bars: closes.enumerated().map { k, c in
                Bar(time: Int64(k), open: c, high: c, low: c, close: c, volume: 1)
            })
        let d = try StrategyRegistry.descriptor(named: "sma_cross")
        guard case .enter(let e) = try d.latestDecision(["fast": 2, "slow": 3], series: series) else {
            return XCTFail("expected an entry on the last bar")
        }
        XCTAssertEqual(e.entryPrice, 12)
        XCTAssertEqual(try d.latestDecision(["fast": 2, "slow": 3], series: series.prefix(5)), .hold)
    }

    func testUnknownParameterListsTheValidOnes() {
        XCTAssertThrowsError(try StrategyRegistry.make(name: "sma_cross", parameters: ["fats": 5])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("unknown parameter 'fats'"), text)
            XCTAssertTrue(text.contains("fast (default 10, 1..500, integer)"), text)
            XCTAssertTrue(text.contains("slow (default 20, 2..1000, integer)"), text)
        }
    }

    func testOutOfRangeNonIntegerAndBadCombination() {
        XCTAssertThrowsError(try StrategyRegistry.make(name: "sma_cross", parameters: ["fast": 0])) {
            guard case .parameterOutOfRange(_, "fast", 0, _)? = $0 as? StrategyError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try StrategyRegistry.make(name: "pullback", parameters: ["ema_period": 2.5])) {
            guard case .parameterNotInteger(_, "ema_period", _, _)? = $0 as? StrategyError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try StrategyRegistry.make(name: "pullback", parameters: ["reward_risk": .nan]))
        XCTAssertThrowsError(try StrategyRegistry.make(name: "sma_cross", parameters: ["fast": 20, "slow": 20])) {
            guard case .invalidCombination? = $0 as? StrategyError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try StrategyRegistry.descriptor(named: "macd")) {
            XCTAssertTrue("\($0)".contains("valid: oops, pullback, sma_cross"))
        }
    }
}

final class SMACrossStrategyTests: XCTestCase {
    private func decisions(_ closes: [Double], fast: Int, slow: Int) throws -> [StrategyDecision] {
        var s = try SMACrossStrategy(fast: fast, slow: slow)
        return closes.enumerated().map { k, c in
            s.onBar(Bar(time: Int64(k), open: c, high: c, low: c, close: c, volume: 1), now: Int64(k))
        }
    }

    func testCrossUpEntersAndCrossDownExits() throws {
        // fast(2): –, 10, 10, 9.5, 8.5, 10, 12.5, 11, 8;  slow(3): –, –, 10, 9.67, 9, 9.67, 11, 11.33, 9.67
        let d = try decisions([10, 10, 10, 9, 8, 12, 13, 9, 7], fast: 2, slow: 3)
        guard case .enter(let signal) = d[5] else { return XCTFail("expected an entry at bar 5: \(d)") }
        XCTAssertEqual(signal.signalType, .smaCrossBuy)
        XCTAssertEqual(signal.order, .market)
        XCTAssertNil(signal.stopLoss)
        XCTAssertNil(signal.profitTarget)
        XCTAssertEqual(d[7], .exit)
        for k in [0, 1, 2, 3, 4, 6, 8] { XCTAssertEqual(d[k], .hold, "bar \(k)") }
    }

    func testEqualAveragesAreNotACross() throws {
        // Bar 2: fast 10 == slow 10; bar 3: fast 10.5 > slow 10.33 — but the previous bar was not strictly below.
        let d = try decisions([10, 10, 10, 11], fast: 2, slow: 3)
        XCTAssertEqual(d, [.hold, .hold, .hold, .hold])
    }
}

final class PullbackStrategyTests: XCTestCase {
    func testDipToTheEMAInAnUptrendSignals() throws {
        // Bars k = 0…9 rise by 2: open 100+2k, high 101+2k, low 99.5+2k, close 100.8+2k. EMA(3) sits at
        // close − 2 (α = 0.5), so lows (close − 1.3) never touch it. Bar 10 dips: low 118 ≤ EMA 118.85,
        // close 120.9 > EMA.
        var bars: [Bar] = []
        for k in 0..<10 {
            let base = 2 * Double(k)
            bars.append(
                Bar(
                    time: Int64(k), open: 100 + base, high: 101 + base, low: 99.5 + base,
                    close: 100.8 + base, volume: 1000))
        }
        bars.append(Bar(time: 10, open: 120, high: 121, low: 118, close: 120.9, volume: 1000))
        var s = try PullbackStrategy(rawParameters: [
            "trend_period": 5, "ema_period": 3, "atr_period": 2,
            "swing_lookback": 3, "atr_pad": 0.5, "zone_atr": 0,
            "reward_risk": 2, "volume_period": 2,
        ])
        let d = bars.map { s.onBar($0, now: $0.time) }
        for k in 0..<10 { XCTAssertEqual(d[k], .hold, "bar \(k)") }
        guard case .enter(let e) = d[10] else { return XCTFail("expected PULLBACK_BUY on bar 10") }
        // ATR(2): TR 1.5 then 2.2 each bar → 1.85, 2.025, …, 2.1986328125 at bar 9; bar 10 TR 3 → 2.59931640625.
        let atr = 2.59931640625
        let stop = 115.5 - 0.5 * atr  // lowest low of bars 8…10, padded
        XCTAssertEqual(e.signalType, .pullbackBuy)
        XCTAssertEqual(e.order, .market)
        XCTAssertEqual(e.entryPrice, 120.9)
        XCTAssertEqual(e.atr!, atr, accuracy: 1e-12)
        XCTAssertEqual(e.stopLoss!, stop, accuracy: 1e-9)
        XCTAssertEqual(e.profitTarget!, 120.9 + 2 * (120.9 - stop), accuracy: 1e-9)
        XCTAssertEqual(e.riskUnit!, 120.9 - stop, accuracy: 1e-9)
        // Score: trend (120.9 − SMA5 116.82)/ATR × 10 + touch (118.85 − 118)/ATR × 25
        //        + close position 2.9/3 × 25 + volume 1 × 10.
        let trendPoints: Double = (120.9 - 116.82) / atr * 10
        let touchPoints: Double = (118.85 - 118) / atr * 25
        let expected: Double = trendPoints + touchPoints + 2.9 / 3 * 25 + 10
        XCTAssertEqual(e.score, expected, accuracy: 1e-9)
    }
}

final class OopsStrategyTests: XCTestCase {
    private let prior = Bar(time: 0, open: 100, high: 102, low: 98, close: 101, volume: 1000)

    private func decide(_ bar: Bar, _ params: [String: Double] = [:]) throws -> StrategyDecision {
        var s = try OopsStrategy(rawParameters: ["atr_period": 1].merging(params) { $1 })
        _ = s.onBar(prior, now: 0)
        return s.onBar(bar, now: 1)
    }

    func testGapBelowThePreviousLowPlacesABuyStopThere() throws {
        let d = try decide(Bar(time: 1, open: 96, high: 97.5, low: 95, close: 97, volume: 1000))
        guard case .enter(let e) = d else { return XCTFail("\(d)") }
        XCTAssertEqual(e.signalType, .oopsBuy)
        XCTAssertEqual(e.side, .buy)
        XCTAssertEqual(e.order, .stop(level: 98))
        XCTAssertEqual(e.stopLoss, 95)
        XCTAssertEqual(e.profitTarget, 104)  // 98 + 2 × R 3
        XCTAssertEqual(e.atr, 6)  // TR: |95 − 101|
    }

    func testGapAboveThePreviousHighPlacesASellStop() throws {
        let d = try decide(Bar(time: 1, open: 104, high: 106, low: 103.5, close: 105, volume: 1000))
        guard case .enter(let e) = d else { return XCTFail("\(d)") }
        XCTAssertEqual(e.signalType, .oopsSell)
        XCTAssertEqual(e.side, .sell)
        XCTAssertEqual(e.order, .stop(level: 102))
        XCTAssertEqual(e.stopLoss, 106)
        XCTAssertEqual(e.profitTarget, 94)  // 102 − 2 × R 4
        XCTAssertEqual(
            try decide(
                Bar(time: 1, open: 104, high: 106, low: 103.5, close: 105, volume: 1000),
                ["allow_short": 0]), .hold)
    }

    func testNoSignalWhenAlreadyRecoveredOrGapTooSmall() throws {
        XCTAssertEqual(try decide(Bar(time: 1, open: 96, high: 99, low: 95, close: 98.5, volume: 1000)), .hold)
        // Gap 2 with ATR 6: min_gap_atr 0.5 needs 3.
        XCTAssertEqual(
            try decide(
                Bar(time: 1, open: 96, high: 97.5, low: 95, close: 97, volume: 1000),
                ["min_gap_atr": 0.5]), .hold)
    }

    func testBacktestFillsTheStopEntryOnTheNextBar() throws {
        let series = BarSeries(bars: [
            prior, Bar(time: dayMs, open: 96, high: 97.5, low: 95, close: 97, volume: 1000),
            Bar(time: 2 * dayMs, open: 97, high: 99, low: 96.5, close: 98.5, volume: 1000),
        ])
        let r = try Backtester.run(
            series: series, strategyName: "oops", parameters: ["atr_period": 1],
            config: plainConfig())
        XCTAssertEqual(r.trades.count, 1)
        XCTAssertEqual(r.trades.first?.entryPrice, 98)
        XCTAssertEqual(r.trades.first?.entryTime, 2 * dayMs)
        XCTAssertEqual(r.trades.first?.exitReason, .endOfData)
        XCTAssertEqual(r.trades.first?.pnl ?? 0, (98.5 - 98) * 10_000 * 0.01 / 3, accuracy: 1e-9)
    }
}
