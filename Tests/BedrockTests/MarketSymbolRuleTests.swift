import MarketDataCore
import XCTest

@testable import Bedrock

/// One rule: the gateway's market names (`MarketName`, hence method parameters, topics and the
/// CLI) are exactly the normaliser's (`MarketSymbol`) spellings, and the canonical id is a fixed
/// point that names the same topic whatever the spelling.
final class MarketSymbolRuleTests: XCTestCase {
    /// Every string of up to 4 characters over letters of both cases, a digit, the three
    /// separators and two refused characters (space and `:`), plus edge cases.
    private var corpus: [String] {
        let alphabet: [Character] = ["a", "Z", "0", "/", "-", "_", " ", ":"]
        var out: [String] = [""]
        var level: [String] = [""]
        for _ in 0..<4 {
            level = level.flatMap { prefix in alphabet.map { prefix + String($0) } }
            out += level
        }
        return out + [
            "BTC/USDT", "BTCUSDT", "btc-usdt", "BTC_USDT", String(repeating: "A", count: 32),
            String(repeating: "A", count: 33), "A/" + String(repeating: "B", count: 30), "BTC\r\nUSDT",
        ]
    }

    func testTheGatewayRuleIsTheNormaliser() {
        var accepted = 0
        for s in corpus {
            let symbol = MarketSymbol(s)
            XCTAssertEqual(MarketName.isValid(s), symbol != nil, s.debugDescription)
            XCTAssertEqual(MarketName.canonical(s), symbol?.id, s.debugDescription)
            guard let id = symbol?.id else { continue }
            accepted += 1
            XCTAssertEqual(MarketName.canonical(id), id, "the canonical id is a fixed point")
            XCTAssertEqual(Topic("klines:\(s):1h")?.name, "klines:\(id):1h", s.debugDescription)
        }
        XCTAssertEqual(accepted, 315, "the corpus holds 315 accepted spellings")
    }

    func testTopicIntervalsAreTheKlineIntervals() {
        for interval in KlineInterval.allCases {
            XCTAssertNotNil(Topic("klines:BTCUSDT:\(interval.rawValue)"), interval.rawValue)
        }
        XCTAssertEqual(Topic.klineIntervals.count, 15)
        XCTAssertNil(Topic("klines:BTCUSDT:1s"))
    }
}
