import JSONCodec
import RedisClient
import TradingCore
import XCTest

@testable import Bedrock

/// History bars (`"backfill": true`) against a real redis-server: a fresh engine learns from them
/// without trading, trades from the first live bar on with indicators warmed by the history, and
/// trades them only with `engine.trade_history`.
final class LiveEngineHistoryTests: LiveEngineTestCase {
    let history = 500
    let cross: [String: [String: Double]] = ["sma_cross": ["fast": 5, "slow": 20]]

    /// 500 history bars oscillating (SMA(5) crosses SMA(20) many times) and ending in a slide
    /// (SMA(5) below SMA(20)), then 3 live bars: a jump (the cross up), and two more.
    func bars() -> [Bar] {
        let t0: Int64 = 1_767_225_600_000, hour: Int64 = 3_600_000
        var closes = (0..<(history - 30)).map { 100 + 10 * sin(2 * Double.pi * Double($0) / 40) }
        closes += (0..<30).map { 110 - Double($0) }  // 110 down to 81
        closes += [140, 141, 142]
        var out: [Bar] = []
        var previous = closes[0]
        for (i, close) in closes.enumerated() {
            out.append(
                Bar(
                    time: t0 + Int64(i) * hour, open: previous, high: max(previous, close) + 0.5,
                    low: min(previous, close) - 0.5, close: close, volume: 1))
            previous = close
        }
        return out
    }

    func publish(_ bars: ArraySlice<Bar>, prefix: String, backfill: Bool) throws {
        let key = StreamBar.streamKey(prefix: prefix, market: market, interval: interval)
        _ = try conn.pipeline(
            bars.map { bar in
                [
                    "XADD", key, "*", "event",
                    KlineEvent.encode(bar, market: market, interval: interval, now: 0, backfill: backfill),
                ]
            })
    }

    func crossEngine(_ prefix: String, tradeHistory: Bool) throws -> LiveEngine {
        var s = settings(prefix, consumer: "h")
        s.strategies = ["sma_cross"]
        s.parameters = cross
        s.tradeHistory = tradeHistory
        return try LiveEngine(address: redis.address, ledger: ledger(prefix), settings: s)
    }

    func length(_ prefix: String, _ topic: String) throws -> Int64 {
        try conn.command(["XLEN", "\(prefix)stream:\(topic)"]).integer ?? 0
    }

    func testTheSeriesNeedsItsHistory() throws {
        // With the history, sma_cross enters on the first live bar; fed the live bars alone it cannot.
        let all = bars()
        var warmed = try SMACrossStrategy(fast: 5, slow: 20)
        var decisions: [StrategyDecision] = []
        for bar in all { decisions.append(warmed.onBar(bar, now: bar.time)) }
        guard case .enter = decisions[history] else { return XCTFail("no entry on the first live bar") }
        XCTAssertTrue(
            decisions[..<history].contains { if case .enter = $0 { return true } else { return false } },
            "the history itself has crosses (traded with engine.trade_history)")
        var cold = try SMACrossStrategy(fast: 5, slow: 20)
        for bar in all[history...] {
            if case .enter = cold.onBar(bar, now: bar.time) { XCTFail("a cold strategy entered") }
        }
    }

    func testHistoryWarmsUpWithoutTradingAndTheFirstLiveBarTrades() throws {
        let all = bars()
        try publish(all[..<history], prefix: "h:", backfill: true)
        let e = try crossEngine("h:", tradeHistory: false)
        e.start()
        defer { e.stop() }
        try waitUntil("the history processed") { try drained("h:", total: history) }
        // Nothing traded: no signal, no position, no alert, the account as it started.
        XCTAssertEqual(try signals("h:").count, 0)
        for topic in ["signals", "portfolio", "risk"] { XCTAssertEqual(try length("h:", topic), 0, topic) }
        let l = try ledger("h:")
        XCTAssertEqual(try l.positions(market: nil, status: nil, offset: 0, limit: 10, on: conn).total, 0)
        XCTAssertEqual(try l.account(on: conn)["balance"]?.doubleValue, 100_000)
        XCTAssertEqual(e.metrics.count("history_bars"), Int64(history))
        XCTAssertEqual(e.metrics.count("bars_processed"), Int64(history), "history bars are acknowledged like any bar")

        try publish(all[history...], prefix: "h:", backfill: false)
        try waitUntil("the live bars processed") { try drained("h:", total: all.count) }
        let signals = try signals("h:")
        XCTAssertEqual(signals.count, 1, "\(signals)")
        XCTAssertEqual(signals.first?["bar_time"]?.stringValue, RFC3339.format(milliseconds: all[history].time))
        let positions = try l.positions(market: nil, status: nil, offset: 0, limit: 10, on: conn).data
        XCTAssertEqual(positions.count, 1)
        XCTAssertEqual(positions.first?["entry_price"]?.doubleValue, all[history].close, "opened on the first live bar")
        XCTAssertEqual(positions.first?["current_price"]?.doubleValue, all.last?.close, "marked by the live bars after it")
        XCTAssertEqual(e.metrics.count("history_bars"), Int64(history))
        XCTAssertEqual(e.metrics.count("bars_processed"), Int64(all.count))
        XCTAssertTrue(e.metrics.registry.render().contains("bedrock_engine_history_bars_total 500"))
    }

    func testTradeHistoryTradesTheFlaggedBars() throws {
        let all = bars()
        try publish(all[..<history], prefix: "s:", backfill: true)
        let e = try crossEngine("s:", tradeHistory: true)
        e.start()
        defer { e.stop() }
        try waitUntil("the history processed") { try drained("s:", total: history) }
        // Every cross of the history is a signal, as a simulation of the same bars decides them.
        var reference = try SMACrossStrategy(fast: 5, slow: 20)
        var expected: [String] = []
        for bar in all[..<history] {
            if case .enter = reference.onBar(bar, now: bar.time) { expected.append(RFC3339.format(milliseconds: bar.time)) }
        }
        let signals = try signals("s:")
        XCTAssertEqual(signals.compactMap { $0["bar_time"]?.stringValue }, expected)
        let positions = try ledger("s:").positions(market: nil, status: nil, offset: 0, limit: 10, on: conn).data
        XCTAssertEqual(positions.count, 1, "one open position per market: the first cross opened it")
        XCTAssertEqual(positions.first?["signal_id"]?.intValue, signals.first?["id"]?.intValue)
        XCTAssertEqual(e.metrics.count("history_bars"), 0)
        XCTAssertEqual(e.metrics.count("positions_opened"), 1)
    }
}
