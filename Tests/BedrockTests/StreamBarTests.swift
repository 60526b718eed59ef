import TradingCore
import XCTest

@testable import Bedrock

/// Decoding `kline.closed` entries for the live engine: a bar with impossible prices is refused
/// like a malformed event (the engine counts it as an error and never trades on it).
final class StreamBarTests: XCTestCase {
    func event(open: String, high: String, low: String, close: String) -> String {
        """
        {"event_type":"kline.closed","market":"BTC/USDT","interval":"1h","open_time":1767225600000,\
        "open":\(open),"high":\(high),"low":\(low),"close":\(close),"volume":3}
        """
    }

    func testASaneBarDecodes() throws {
        let bar = try XCTUnwrap(StreamBar.decode(id: "1-0", eventJSON: event(open: "100", high: "110", low: "95", close: "105")))
        XCTAssertEqual(bar.market, "BTCUSDT", "held as the canonical id")
        XCTAssertEqual(bar.bar.close, 105)
        XCTAssertEqual(bar.bar.volume, 3)
    }

    func testOnlyAJSONTrueBackfillMakesAHistoryBar() throws {
        let live = event(open: "100", high: "110", low: "95", close: "105")
        XCTAssertEqual(try XCTUnwrap(StreamBar.decode(id: "1-0", eventJSON: live)).backfill, false)
        func with(_ flag: String) -> String { String(live.dropLast()) + #","backfill":\#(flag)}"# }
        XCTAssertEqual(try XCTUnwrap(StreamBar.decode(id: "1-0", eventJSON: with("true"))).backfill, true)
        for other in ["false", "\"true\"", "1", "null"] {
            XCTAssertEqual(try XCTUnwrap(StreamBar.decode(id: "1-0", eventJSON: with(other))).backfill, false, other)
        }
        // The flag written by the publishers round-trips.
        let bar = Bar(time: 1_767_225_600_000, open: 100, high: 110, low: 95, close: 105, volume: 3)
        let flagged = KlineEvent.encode(bar, market: "BTCUSDT", interval: "1h", now: 0, backfill: true)
        XCTAssertEqual(StreamBar.decode(id: "2-0", eventJSON: flagged)?.backfill, true)
    }

    func testZeroNegativeOrInconsistentPricesAreRefused() {
        XCTAssertNil(StreamBar.decode(id: "1-0", eventJSON: event(open: "0", high: "110", low: "95", close: "105")))
        XCTAssertNil(StreamBar.decode(id: "1-0", eventJSON: event(open: "100", high: "110", low: "-5", close: "105")))
        XCTAssertNil(StreamBar.decode(id: "1-0", eventJSON: event(open: "100", high: "90", low: "95", close: "105")))
        XCTAssertNil(StreamBar.decode(id: "1-0", eventJSON: event(open: "100", high: "110", low: "95", close: "\"abc\"")))
    }
}
