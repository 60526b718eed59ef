import JSONCodec
import XCTest

@testable import Bedrock

/// The one market-name rule: what method parameters accept, and the topic spelling inside it.
final class MarketNameTests: XCTestCase {
    private let tooLong = String(repeating: "B", count: 33)

    func testTheRule() {
        for good in ["BTCUSDT", "BTC/USDT", "btc-usdt", "BTC_USDT", "1INCHUSDT", String(repeating: "A", count: 32)] {
            XCTAssertTrue(MarketName.isValid(good), good)
        }
        for bad in [
            "", "BTCUSDT\r\n", "BTC\nUSDT", "BTC USDT", " BTCUSDT", "/BTC", "-BTC", "_BTC", "BTC:USDT", "BTC*",
            "BTCÜSDT", "BTC\u{0}", tooLong, String(repeating: "B", count: 5000),
        ] {
            XCTAssertFalse(MarketName.isValid(bad), bad.debugDescription)
        }
    }

    func testTopicSpellingIsTheRuleWithoutLowerCaseOrSlash() {
        XCTAssertTrue(MarketName.isTopicSpelling("BTC_USDT"))
        for name in ["BTC/USDT", "btcusdt", "BtcUSDT"] {
            XCTAssertTrue(MarketName.isValid(name), name)
            XCTAssertFalse(MarketName.isTopicSpelling(name), name)
            XCTAssertFalse(Topic.isValidMarket(name), name)
        }
    }

    func testParametersAreRefusedNamingTheFieldNotRepeatingTheValue() {
        let long = String(repeating: "B", count: 5000)
        for bad in ["BTCUSDT\r\nX: 1", long] {
            XCTAssertThrowsError(try LedgerParams(params: ["market": .string(bad)]).market()) { e in
                let error = e as? APIError
                XCTAssertEqual(error?.code, .badRequest)
                XCTAssertEqual(error?.message.hasPrefix("market must be 1-32 characters"), true, "\(String(describing: error))")
                XCTAssertEqual(error?.message.contains(bad), false)
            }
        }
        XCTAssertNil(try LedgerParams(params: [:]).market())
        XCTAssertEqual(try LedgerParams(params: ["market": "BTC/USDT"]).market(), "BTC/USDT")
        XCTAssertThrowsError(try MarketParameter.interval("7x")) { e in
            XCTAssertEqual((e as? APIError)?.message.hasPrefix("interval must be one of "), true)
        }
    }
}
