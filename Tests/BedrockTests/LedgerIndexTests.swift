import JSONCodec
import XCTest

@testable import Bedrock

/// `LedgerIndex` against a real redis-server written by the ledger's own scripts: incremental
/// refresh, positions turning CLOSED through their trade, strategies of trades, a flushed store.
final class LedgerIndexTests: RedisTestCase {
    var ledger: Ledger!
    let prefix = "ix:"

    override func setUpWithError() throws {
        try super.setUpWithError()
        ledger = try Ledger(settings: LedgerSettings(prefix: prefix, initialBalance: 100_000, commissionRate: 0.001))
    }

    private func signal(_ strategy: String, bar: String) throws -> Int64 {
        let input = SignalInput(
            strategy: strategy, market: "BTCUSDT", interval: "1h", barTime: bar, signalType: "PULLBACK_BUY",
            side: "BUY", entryPrice: 100, stopLossPrice: 95, profitTargetPrice: 110, riskUnitR: 5,
            suggestedPositionWeight: 0.5, ruleEngineScore: 80, finalDecision: "APPROVED", explanation: "t")
        return try XCTUnwrap(ledger.recordSignal(input, on: conn).id)
    }

    private func open(_ signalID: Int64?, market: String) throws -> Int64 {
        let input = OpenInput(signalID: signalID, market: market, side: "BUY", size: 1, entryPrice: 100, stopLossPrice: 95)
        return try XCTUnwrap(ledger.openPosition(input, on: conn).id)
    }

    private func select(_ index: LedgerIndex, _ kind: LedgerRecord, _ f: LedgerFilter = LedgerFilter()) throws -> [Int64] {
        try index.select(kind, f, offset: 0, limit: 100, on: conn).rows.map(\.id)
    }

    func testRefreshFollowsNewRecordsClosesAndAFlush() throws {
        let index = LedgerIndex(prefix: prefix)
        let s1 = try signal("pullback", bar: "2026-01-01T00:00:00Z")
        let p1 = try open(s1, market: "BTCUSDT")
        var opened = LedgerFilter()
        opened.status = "OPEN"
        XCTAssertEqual(try select(index, .position, opened), [p1])
        XCTAssertEqual(try select(index, .signal), [s1])

        // A close after the position was indexed: the trade marks it CLOSED.
        _ = try ledger.closePosition(id: p1, price: 110, reason: "TARGET", on: conn)
        let p2 = try open(nil, market: "ETHUSDT")
        var closed = LedgerFilter()
        closed.status = "CLOSED"
        closed.exitReason = "TARGET"
        XCTAssertEqual(try select(index, .position, closed), [p1])
        XCTAssertEqual(try select(index, .position, opened), [p2])
        var pullback = LedgerFilter()
        pullback.strategy = "pullback"
        XCTAssertEqual(try select(index, .trade, pullback).count, 1, "a trade's strategy is its signal's")
        var manual = LedgerFilter()
        manual.strategy = LedgerIndex.manualStrategy
        XCTAssertEqual(try select(index, .position, manual), [p2], "no signal: manual")
        XCTAssertEqual(try index.tables.positions.row(p1)?.closedAt ?? 0 > 0, true)

        // Opened and closed between two refreshes: read CLOSED from its hash.
        _ = try ledger.closePosition(id: p2, price: 90, reason: "STOP_LOSS", on: conn)
        closed.exitReason = "STOP_LOSS"
        XCTAssertEqual(try select(index, .position, closed), [p2])

        // The store is flushed and refilled: the index starts over instead of keeping ghosts.
        _ = try conn.command(["FLUSHALL"]).checked()
        let s2 = try signal("oops", bar: "2026-02-01T00:00:00Z")
        XCTAssertEqual(try select(index, .signal), [s2])
        XCTAssertEqual(try select(index, .trade), [])
    }

    func testTradeOfASignalIndexedBeforeReadsItsStrategyFromTheTable() throws {
        let index = LedgerIndex(prefix: prefix)
        let s1 = try signal("sma_cross", bar: "2026-01-01T00:00:00Z")
        XCTAssertEqual(try select(index, .signal), [s1])
        let p = try open(s1, market: "BTCUSDT")
        _ = try ledger.closePosition(id: p, price: 101, reason: "SIGNAL_EXIT", on: conn)
        var f = LedgerFilter()
        f.strategy = "sma_cross"
        XCTAssertEqual(try select(index, .trade, f).count, 1)
        XCTAssertEqual(try select(index, .position, f), [p])
    }

    func testSmallBatchesAndACapacityGiveTheNewestRows() throws {
        var ids: [Int64] = []
        for day in 1...7 { ids.append(try signal("pullback", bar: "2026-01-0\(day)T00:00:00Z")) }
        let batched = LedgerIndex(prefix: prefix, chunk: 2)
        XCTAssertEqual(try select(batched, .signal), ids.reversed())
        let bounded = LedgerIndex(prefix: prefix, capacity: 3, chunk: 2)
        XCTAssertEqual(try select(bounded, .signal), Array(ids.reversed().prefix(3)))
        let more = try signal("pullback", bar: "2026-01-08T00:00:00Z")
        XCTAssertEqual(
            try select(bounded, .signal), [more] + Array(ids.reversed().prefix(2)), "no restart: the dropped rows count as seen")
    }
}
