import JSONCodec
import TradingCore
import XCTest

@testable import Bedrock

/// The live pipeline on hand-made bars against a real redis-server: market entries, stop entries
/// filled or cancelled on the next bar, trailing stop ratchet, both levels touched → stop,
/// redelivered bars changing nothing.
final class BarPipelineTests: RedisTestCase {
    var pipeline: BarPipeline!
    var origins: [Int64: BarPipeline.PositionOrigin] = [:]
    var previous: Int64?
    let key = "p:stream:klines:ETH/USDT:1h"
    let t0: Int64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z
    let hour: Int64 = 3_600_000

    override func setUpWithError() throws {
        try super.setUpWithError()
        let ledger = try Bedrock.Ledger(settings: LedgerSettings(prefix: "p:", initialBalance: 100_000, commissionRate: 0.001))
        pipeline = BarPipeline(ledger: ledger, settings: EngineSettings(prefix: "p:", consumer: "t"), metrics: EngineMetrics())
    }

    func bar(_ i: Int64, _ o: Double, _ h: Double, _ l: Double, _ c: Double) -> StreamBar {
        StreamBar(
            id: "\(i + 1)-0", market: "ETH/USDT", interval: "1h",
            bar: Bar(time: t0 + i * hour, open: o, high: h, low: l, close: c, volume: 1))
    }

    /// Processes the next bar in stream order.
    func run(_ b: StreamBar, _ decisions: [(name: String, decision: StrategyDecision)] = []) throws {
        try pipeline.process(b, key: key, decisions: decisions, previousTime: previous, origins: &origins, on: conn)
        previous = b.bar.time
    }

    func positions() throws -> [JSONObject] {
        try pipeline.ledger.positions(market: nil, status: nil, offset: 0, limit: 100, on: conn).data.reversed()
    }

    func events(_ topic: String) throws -> Int64 { try conn.command(["XLEN", "p:stream:\(topic)"]).integer ?? 0 }

    func testMarketEntryTrailingStopAndRedelivery() throws {
        let entry = EntrySignal(
            signalType: .pullbackBuy, side: .buy, order: .market, entryPrice: 100, stopLoss: 95,
            profitTarget: 110, atr: 2, trailingATRMultiple: 1, score: 90)
        try run(bar(0, 99, 101, 98, 100), [("pullback", .enter(entry))])
        var p = try XCTUnwrap(try positions().first)
        XCTAssertEqual(p["status"]?.stringValue, "OPEN")
        XCTAssertEqual(p["entry_price"]?.doubleValue, 100)
        // 1R in favour (high 106 ≥ 100 + 5): armed; the stop trails 2 behind the best high.
        let bar1 = bar(1, 100, 106, 99, 105)
        try run(bar1)
        p = try XCTUnwrap(try positions().first)
        XCTAssertEqual(p["trailing_stop_price"]?.doubleValue, 104)
        XCTAssertEqual(p["trailing_armed"], .bool(true))
        XCTAssertEqual(p["current_price"]?.doubleValue, 105)
        // Redelivering bar 0 and bar 1 changes nothing (no second entry, no re-check against the ratcheted stop).
        let portfolio = try events("portfolio"), signals = try events("signals")
        try pipeline.process(
            bar(0, 99, 101, 98, 100), key: key, decisions: [("pullback", .enter(entry))],
            previousTime: nil, origins: &origins, on: conn)
        try pipeline.process(bar1, key: key, decisions: [], previousTime: t0, origins: &origins, on: conn)
        XCTAssertEqual(try events("portfolio"), portfolio)
        XCTAssertEqual(try events("signals"), signals)
        XCTAssertEqual(try positions().count, 1)
        // A lower high does not loosen the stop; a low through it closes at the trailing stop.
        try run(bar(2, 105, 105.5, 104.5, 105))
        XCTAssertEqual(try positions().first?["trailing_stop_price"]?.doubleValue, 104)
        try run(bar(3, 105, 105.2, 103, 103.5))
        p = try XCTUnwrap(try positions().first)
        XCTAssertEqual(p["status"]?.stringValue, "CLOSED")
        XCTAssertEqual(p["exit_reason"]?.stringValue, "TRAILING_STOP")
        XCTAssertEqual(p["exit_price"]?.doubleValue, 104)
        XCTAssertEqual(pipeline.metrics.closedByReason["TRAILING_STOP"], 1)
    }

    func testStopEntryFillsOnTheNextBarOrIsCancelled() throws {
        func oops(_ level: Double) -> StrategyDecision {
            .enter(
                EntrySignal(
                    signalType: .oopsBuy, side: .buy, order: .stop(level: level), entryPrice: level,
                    stopLoss: level - 4, profitTarget: level + 8, atr: 1, trailingATRMultiple: 2, score: 80))
        }
        try run(bar(0, 99, 100, 98, 99), [("oops", oops(101))])
        XCTAssertEqual(try positions().count, 0, "a stop entry waits for the next bar")
        try run(bar(1, 99, 100.5, 98.5, 100))
        XCTAssertEqual(try positions().count, 0, "not reached: cancelled")
        XCTAssertEqual(try conn.command(["HLEN", "p:engine:pending:ETH/USDT:1h"]).integer, 0)
        try run(bar(2, 99, 100, 98, 99), [("oops", oops(101))])
        try run(bar(3, 100, 102, 99.5, 101.5))
        var p = try XCTUnwrap(try positions().first)
        XCTAssertEqual(p["status"]?.stringValue, "OPEN")
        XCTAssertEqual(p["entry_price"]?.doubleValue, 101)
        XCTAssertEqual(p["trailing_distance"]?.doubleValue, 2)
        // A bar touching both the stop (97) and the target (109) fills the stop.
        try run(bar(4, 101, 110, 96, 100))
        p = try XCTUnwrap(try positions().first)
        XCTAssertEqual(p["exit_reason"]?.stringValue, "STOP_LOSS")
        XCTAssertEqual(p["exit_price"]?.doubleValue, 97)
        XCTAssertEqual(try events("signals"), 2)
    }

    func testRefusedEntryWritesOneRiskAlert() throws {
        // Reward:risk 1.2 is below the default minimum 1.5.
        let entry = EntrySignal(
            signalType: .pullbackBuy, side: .buy, order: .market, entryPrice: 100, stopLoss: 95,
            profitTarget: 106, atr: 2, trailingATRMultiple: 1, score: 90)
        try run(bar(0, 99, 101, 98, 100), [("pullback", .enter(entry))])
        try pipeline.process(
            bar(0, 99, 101, 98, 100), key: key, decisions: [("pullback", .enter(entry))],
            previousTime: nil, origins: &origins, on: conn)
        XCTAssertEqual(try positions().count, 0)
        XCTAssertEqual(try events("risk"), 1)
        XCTAssertEqual(pipeline.metrics.refusalsByReason["MIN_REWARD_RISK"] ?? 0, 2, "counted per attempt, alerted once")
    }
}
