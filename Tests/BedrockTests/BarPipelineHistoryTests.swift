import JSONCodec
import TradingCore
import XCTest

@testable import Bedrock

/// What a history bar (`backfill`) does to the ledger against a real redis-server: nothing — no
/// signal, fill, mark, close or alert — unless `engine.trade_history`; open positions keep their
/// last mark until the next live bar checks them, and a stop entry waiting for the next bar is
/// cancelled by the live bar that follows the history.
final class BarPipelineHistoryTests: RedisTestCase {
    var origins: [Int64: BarPipeline.PositionOrigin] = [:]
    let key = "p:stream:klines:ETHUSDT:1h"
    let t0: Int64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z
    let hour: Int64 = 3_600_000
    let entry = EntrySignal(
        signalType: .pullbackBuy, side: .buy, order: .market, entryPrice: 100, stopLoss: 95,
        profitTarget: 110, atr: 2, trailingATRMultiple: 1, score: 90)
    let oops = EntrySignal(
        signalType: .oopsBuy, side: .buy, order: .stop(level: 101), entryPrice: 101,
        stopLoss: 97, profitTarget: 109, atr: 1, trailingATRMultiple: 2, score: 80)

    func pipeline(tradeHistory: Bool) throws -> BarPipeline {
        let ledger = try Bedrock.Ledger(settings: LedgerSettings(prefix: "p:", initialBalance: 100_000, commissionRate: 0.001))
        return BarPipeline(
            ledger: ledger, settings: EngineSettings(prefix: "p:", consumer: "t", tradeHistory: tradeHistory),
            metrics: EngineMetrics())
    }

    func bar(_ i: Int64, _ o: Double, _ h: Double, _ l: Double, _ c: Double, history: Bool = false) -> StreamBar {
        StreamBar(
            id: "\(i + 1)-0", market: "ETHUSDT", interval: "1h",
            bar: Bar(time: t0 + i * hour, open: o, high: h, low: l, close: c, volume: 1), backfill: history)
    }

    func run(
        _ p: BarPipeline, _ b: StreamBar, _ decisions: [(name: String, decision: StrategyDecision)] = []
    ) throws {
        try p.process(b, key: key, decisions: decisions, previousTime: b.bar.time - hour, origins: &origins, on: conn)
    }

    func position(_ p: BarPipeline) throws -> JSONObject {
        try XCTUnwrap(try p.ledger.positions(market: nil, status: nil, offset: 0, limit: 10, on: conn).data.first)
    }

    func events() throws -> [Int64] {
        try ["signals", "portfolio", "risk"].map { try conn.command(["XLEN", "p:stream:\($0)"]).integer ?? 0 }
    }

    func testHistoryLeavesTheLedgerAloneUntilTheNextLiveBar() throws {
        let p = try pipeline(tradeHistory: false)
        try run(p, bar(0, 99, 101, 98, 100), [("pullback", .enter(entry))])
        XCTAssertEqual(try position(p)["status"]?.stringValue, "OPEN")
        try run(p, bar(1, 100, 100.5, 99.5, 100), [("oops", .enter(oops))])  // a stop entry for bar 2
        let before = try events()
        let account = try p.ledger.account(on: conn)

        // History through both the stop (95) and the target (110), past the stop entry's level,
        // with entries of its own: nothing is written, the bar only moves the stream mark.
        try run(p, bar(2, 100, 120, 90, 112, history: true), [("pullback", .enter(entry))])
        try run(p, bar(3, 112, 113, 93, 94, history: true))
        XCTAssertEqual(try events(), before)
        XCTAssertEqual(try p.ledger.account(on: conn), account)
        var open = try position(p)
        XCTAssertEqual(open["status"]?.stringValue, "OPEN")
        XCTAssertEqual(open["current_price"]?.doubleValue, 100, "keeps its last live mark")
        XCTAssertEqual(try p.ledger.positions(market: nil, status: nil, offset: 0, limit: 10, on: conn).total, 1)
        XCTAssertEqual(try conn.command(["HLEN", "p:engine:pending:ETHUSDT:1h"]).integer, 1, "the stop entry waits")
        XCTAssertEqual(try conn.command(["HGET", "p:engine:stream_marks", key]).string, String(t0 + 3 * hour))
        XCTAssertEqual(p.metrics.count("history_bars"), 2)

        // The next live bar opens at 94, below the stop: the gap rule fills the stop at that open;
        // the stop entry decided two bars ago is cancelled, not filled.
        try run(p, bar(4, 94, 96, 93, 95))
        open = try position(p)
        XCTAssertEqual(open["status"]?.stringValue, "CLOSED")
        XCTAssertEqual(open["exit_reason"]?.stringValue, "STOP_LOSS")
        XCTAssertEqual(open["exit_price"]?.doubleValue, 94)
        XCTAssertEqual(try conn.command(["HLEN", "p:engine:pending:ETHUSDT:1h"]).integer, 0)
        XCTAssertEqual(try p.ledger.positions(market: nil, status: nil, offset: 0, limit: 10, on: conn).total, 1)
    }

    func testTradeHistoryTradesAHistoryBarLikeALiveOne() throws {
        let p = try pipeline(tradeHistory: true)
        try run(p, bar(0, 99, 101, 98, 100, history: true), [("pullback", .enter(entry))])
        XCTAssertEqual(try position(p)["status"]?.stringValue, "OPEN", "entered on a history bar")
        try run(p, bar(1, 100, 120, 90, 112, history: true))
        let closed = try position(p)
        XCTAssertEqual(closed["status"]?.stringValue, "CLOSED")
        XCTAssertEqual(closed["exit_reason"]?.stringValue, "STOP_LOSS", "a bar touching both levels fills the stop")
        XCTAssertEqual(try events()[0], 1, "one signal.created")
        XCTAssertEqual(p.metrics.count("history_bars"), 0)
    }
}
