import JSONCodec
import TradingCore
import XCTest

@testable import Bedrock

/// The one market rule (SPEC §10): what method parameters accept, answered as the canonical id.
final class MarketNameTests: XCTestCase {
    private let tooLong = String(repeating: "B", count: 33)

    func testTheFourSpellingsAreOneCanonicalMarket() {
        for good in ["BTCUSDT", "BTC/USDT", "btc-usdt", "BTC_USDT", "Btc/Usdt"] {
            XCTAssertTrue(MarketName.isValid(good), good)
            XCTAssertEqual(MarketName.canonical(good), "BTCUSDT", good)
        }
        XCTAssertEqual(MarketName.canonical("1INCHUSDT"), "1INCHUSDT")
        XCTAssertEqual(MarketName.canonical(String(repeating: "a", count: 32)), String(repeating: "A", count: 32))
    }

    func testSpellingsThatBreakTheRuleAreRefused() {
        for bad in [
            "", "BTCUSDT\r\n", "BTC\nUSDT", "BTC USDT", " BTCUSDT", "/BTC", "-BTC", "_BTC", "BTC/", "BTC:USDT", "BTC*",
            "BTC//USDT", "BTC/USD/T", "BTC-USDT_X", "BTCÜSDT", "BTC\u{0}", tooLong, String(repeating: "B", count: 5000),
        ] {
            XCTAssertFalse(MarketName.isValid(bad), bad.debugDescription)
            XCTAssertNil(MarketName.canonical(bad), bad.debugDescription)
        }
    }

    func testParametersAreCanonicalOrRefusedNamingTheFieldNotRepeatingTheValue() {
        let long = String(repeating: "B", count: 5000)
        for bad in ["BTCUSDT\r\nX: 1", long, "BTC//USDT"] {
            XCTAssertThrowsError(try LedgerParams(params: ["market": .string(bad)]).market()) { e in
                let error = e as? APIError
                XCTAssertEqual(error?.code, .badRequest)
                XCTAssertEqual(error?.message, "market must be \(MarketName.rule)")
                XCTAssertEqual(error?.message.contains(bad), false)
            }
        }
        XCTAssertNil(try LedgerParams(params: [:]).market())
        for spelling in ["BTC/USDT", "BTCUSDT", "btc-usdt", "BTC_USDT"] {
            XCTAssertEqual(try LedgerParams(params: ["market": .string(spelling)]).market(), "BTCUSDT")
            XCTAssertEqual(try MarketParameter.market(spelling), "BTCUSDT")
        }
        XCTAssertThrowsError(try MarketParameter.interval("7x")) { e in
            XCTAssertEqual((e as? APIError)?.message.hasPrefix("interval must be one of "), true)
        }
    }

    func testJobsReadTheCanonicalStreamWhateverTheSpelling() throws {
        var asked: [String] = []
        for spelling in ["eth/usdt", "ETH_USDT", "Eth-Usdt", "ETHUSDT"] {
            let request = try JobRequest.parse(
                .backtest, ["strategy": "sma_cross", "market": .string(spelling), "interval": "1h"], datasets: "/nonexistent",
                hasBars: { market, _ in
                    asked.append(market)
                    return true
                }, markets: { [] })
            XCTAssertEqual(request.data, .market(market: "ETHUSDT", interval: "1h", start: nil, end: nil), spelling)
            XCTAssertEqual(request.config.market, "ETHUSDT")
            XCTAssertEqual(request.summary["market"], "ETHUSDT")
        }
        XCTAssertEqual(Set(asked), ["ETHUSDT"])
        XCTAssertThrowsError(
            try JobRequest.parse(
                .backtest, ["strategy": "sma_cross", "market": "ETH//USDT", "interval": "1h"], datasets: "/nonexistent",
                hasBars: { _, _ in true }, markets: { [] })
        ) { XCTAssertEqual(($0 as? APIError)?.message, "market must be \(MarketName.rule)") }
    }

    func testBarsOfAnEventInAnySpellingCarryTheCanonicalId() throws {
        for spelling in ["btc/usdt", "BTC_USDT", "BTCUSDT"] {
            let json = KlineEvent.encode(
                Bar(time: 0, open: 1, high: 2, low: 1, close: 2, volume: 1), market: spelling, interval: "1h", now: 0)
            XCTAssertEqual(StreamBar.decode(id: "1-0", eventJSON: json)?.market, "BTCUSDT", spelling)
        }
    }
}
