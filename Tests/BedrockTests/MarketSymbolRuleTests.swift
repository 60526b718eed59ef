import MarketDataCore
import XCTest

@testable import Bedrock

/// The normaliser (`MarketSymbol`) and the gateway's market-name rule (`MarketName`) agree: every
/// spelling the normaliser takes is a valid market name whose canonical id is a topic spelling,
/// and the rule's names it refuses are exactly those with more than one separator or one at the
/// end.
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

    func testEverySpellingTheNormaliserTakesFollowsTheMarketNameRule() {
        var accepted = 0
        for s in corpus {
            guard let symbol = MarketSymbol(s) else { continue }
            accepted += 1
            XCTAssertTrue(MarketName.isValid(s), s.debugDescription)
            XCTAssertTrue(MarketName.isTopicSpelling(symbol.id), symbol.id)
            XCTAssertTrue(Topic.isValidMarket(symbol.id), symbol.id)
        }
        XCTAssertGreaterThan(accepted, 300, "the corpus holds 315 accepted spellings")
    }

    func testTheRuleNamesTheNormaliserRefusesHaveTwoSeparatorsOrOneAtTheEnd() {
        let separators: Set<Character> = ["/", "-", "_"]
        for s in corpus where MarketName.isValid(s) && MarketSymbol(s) == nil {
            let count = s.filter { separators.contains($0) }.count
            XCTAssertTrue(count > 1 || separators.contains(s.last!), s.debugDescription)
        }
    }

    func testTopicIntervalsAreTheKlineIntervals() {
        for interval in KlineInterval.allCases {
            XCTAssertNotNil(Topic("klines:BTCUSDT:\(interval.rawValue)"), interval.rawValue)
        }
        XCTAssertEqual(Topic.klineIntervals.count, 15)
        XCTAssertNil(Topic("klines:BTCUSDT:1s"))
    }
}
