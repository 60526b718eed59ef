import MarketDataCore
import XCTest

/// Unified symbols: the four spellings of SPEC §10 name one market; everything else is refused.
final class MarketSymbolTests: XCTestCase {
    func testTheFourSpellingsNameOneMarket() throws {
        let spellings = ["BTC/USDT", "BTCUSDT", "btc-usdt", "BTC_USDT", "Btc/Usdt"]
        let symbols = try spellings.map { try XCTUnwrap(MarketSymbol($0), $0) }
        XCTAssertEqual(Set(symbols.map(\.id)), ["BTCUSDT"])
        XCTAssertTrue(symbols.allSatisfy { $0.sameMarket(as: symbols[0]) })
    }

    func testASeparatorGivesBaseQuoteAndTheDisplaySymbol() throws {
        let s = try XCTUnwrap(MarketSymbol("btc-usdt"))
        XCTAssertEqual(s.base, "BTC")
        XCTAssertEqual(s.quote, "USDT")
        XCTAssertEqual(s.symbol, "BTC/USDT")
        XCTAssertEqual(s.display, "BTC/USDT")
        XCTAssertEqual("\(s)", "BTC/USDT")
    }

    func testWithoutASeparatorOnlyTheCanonicalIdIsKnown() throws {
        let s = try XCTUnwrap(MarketSymbol("ethusdt"))
        XCTAssertEqual(s.id, "ETHUSDT")
        XCTAssertNil(s.base)
        XCTAssertNil(s.quote)
        XCTAssertNil(s.symbol)
        XCTAssertEqual(s.display, "ETHUSDT")
    }

    func testBadSpellingsAreRefused() {
        let bad = [
            "", "/BTC", "BTC/", "-BTC", "BTC_", "BTC//USDT", "BTC/USD/T", "BTC-USDT_X", "BTC USDT", "BTC:USDT",
            "BTC*", "BTC\nUSDT", "ÄBC", String(repeating: "A", count: 33),
        ]
        for s in bad { XCTAssertNil(MarketSymbol(s), s.debugDescription) }
        XCTAssertNotNil(MarketSymbol(String(repeating: "A", count: 32)))
        XCTAssertNotNil(MarketSymbol("1INCH/USDT"))
    }
}
