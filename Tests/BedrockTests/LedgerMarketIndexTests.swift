import JSONCodec
import XCTest

@testable import Bedrock

/// Market filters find the records of a market under its canonical id and under the older
/// spellings records were written with before the one market rule (not migrated).
final class LedgerMarketIndexTests: RedisTestCase {
    var ledger: Ledger!

    override func setUpWithError() throws {
        try super.setUpWithError()
        ledger = try Ledger(settings: LedgerSettings(prefix: "t:", initialBalance: 100_000, commissionRate: 0.001))
    }

    private func signal(_ market: String, bar: String) -> SignalInput {
        SignalInput(
            strategy: "pullback", market: market, interval: "1h", barTime: bar, signalType: "PULLBACK_BUY",
            side: "BUY", entryPrice: 100, stopLossPrice: 95, ruleEngineScore: 80, finalDecision: "APPROVED",
            explanation: "test")
    }

    private func ids(_ page: LedgerPage) -> [Int64] { page.data.compactMap { $0["id"]?.intValue } }

    func testOlderSpellingsOfACanonicalId() {
        let older = Ledger.olderSpellings(of: "BTCUSDT")
        XCTAssertEqual(older.count, 6 * 3 * 2 + 1, "6 splits, 3 separators, 2 cases, and the id in lower case")
        for s in ["BTC/USDT", "btc/usdt", "BTC-USDT", "btc_usdt", "BTCU/SDT", "btcusdt"] {
            XCTAssertTrue(older.contains(s), s)
        }
        XCTAssertFalse(older.contains("BTCUSDT"))
        XCTAssertTrue(older.allSatisfy { MarketName.canonical($0) == "BTCUSDT" })
        XCTAssertEqual(Ledger.olderSpellings(of: "A"), ["a"])
    }

    func testEverySpellingFindsCanonicalAndOlderRecordsNewestFirst() throws {
        // Signals 1 and 3 under older spellings (written before the rule), 2 and 4 canonical, 5 another market.
        for (i, market) in ["BTC/USDT", "BTCUSDT", "btc-usdt", "BTCUSDT", "ETHUSDT"].enumerated() {
            XCTAssertEqual(try ledger.recordSignal(signal(market, bar: "b\(i)"), on: conn).id, Int64(i + 1))
        }
        for spelling in ["BTCUSDT", "BTC/USDT", "btc_usdt"] {
            XCTAssertEqual(ids(try ledger.signals(market: spelling, offset: 0, limit: 10, on: conn)), [4, 3, 2, 1], spelling)
            let page = try ledger.signals(market: spelling, offset: 1, limit: 2, on: conn)
            XCTAssertEqual(page.total, 4)
            XCTAssertEqual(ids(page), [3, 2])
        }
        XCTAssertEqual(ids(try ledger.signals(market: "eth/usdt", offset: 0, limit: 10, on: conn)), [5])

        // A position opened under an older spelling is found by the canonical id, open or closed.
        let older = try XCTUnwrap(
            ledger.openPosition(OpenInput(signalID: 1, market: "BTC/USDT", side: "BUY", size: 1, entryPrice: 100), on: conn).id)
        XCTAssertEqual(ids(try ledger.positions(market: "BTCUSDT", status: .open, offset: 0, limit: 10, on: conn)), [older])
        XCTAssertEqual(
            try ledger.riskState(ledger.snapshot(on: conn)).openMarkets, ["BTCUSDT"],
            "the risk guard sees the market open whatever its spelling")
        XCTAssertEqual(try ledger.closePosition(id: older, price: 110, reason: "MANUAL", on: conn).status, "closed")
        let canonical = try XCTUnwrap(
            ledger.openPosition(OpenInput(signalID: 2, market: "BTCUSDT", side: "BUY", size: 1, entryPrice: 100), on: conn).id)
        XCTAssertEqual(
            ids(try ledger.positions(market: "btc-usdt", status: nil, offset: 0, limit: 10, on: conn)), [canonical, older])
        XCTAssertEqual(ids(try ledger.positions(market: "btc-usdt", status: .closed, offset: 0, limit: 10, on: conn)), [older])
        XCTAssertEqual(try ledger.trades(market: "BTC_USDT", offset: 0, limit: 10, on: conn).total, 1)
        XCTAssertEqual(try ledger.trades(market: "ETHUSDT", offset: 0, limit: 10, on: conn).total, 0)
    }
}
