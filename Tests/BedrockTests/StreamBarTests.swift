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

    func testZeroNegativeOrInconsistentPricesAreRefused() {
        XCTAssertNil(StreamBar.decode(id: "1-0", eventJSON: event(open: "0", high: "110", low: "95", close: "105")))
        XCTAssertNil(StreamBar.decode(id: "1-0", eventJSON: event(open: "100", high: "110", low: "-5", close: "105")))
        XCTAssertNil(StreamBar.decode(id: "1-0", eventJSON: event(open: "100", high: "90", low: "95", close: "105")))
        XCTAssertNil(StreamBar.decode(id: "1-0", eventJSON: event(open: "100", high: "110", low: "95", close: "\"abc\"")))
    }
}
