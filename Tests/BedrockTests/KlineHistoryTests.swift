import JSONCodec
import TradingCore
import XCTest

@testable import Bedrock

/// `klines.list` / `GET /v1/klines`: the latest bars of a klines stream, oldest first.
final class KlineHistoryTests: RedisTestCase {
    private let key = "bedrock:stream:klines:BTCUSDT:1h"

    private func publish(_ hour: Int64, close: Double) throws {
        let bar = Bar(time: 1_700_000_000_000 + hour * 3_600_000, open: 100, high: close + 1, low: 99, close: close, volume: 5)
        _ = try conn.command(["XADD", key, "*", "event", KlineEvent.encode(bar, market: "BTCUSDT", interval: "1h", now: 0)])
            .checked()
    }

    func testLatestBarsOldestFirstOnePerOpenTime() throws {
        for h in 0..<5 { try publish(Int64(h), close: 100 + Double(h)) }
        _ = try conn.command(["XADD", key, "*", "event", "{\"event_type\":\"something.else\"}"]).checked()
        try publish(4, close: 142)  // bar 4 published again: the newest event wins

        let answer = try KlineHistory.list(["market": "BTCUSDT", "interval": "1h", "limit": "4"], prefix: "bedrock:", on: conn)
        let data = try XCTUnwrap(answer["data"]?.arrayValue)
        XCTAssertEqual(answer["topic"], "klines:BTCUSDT:1h")
        XCTAssertNotNil(answer["last_id"]?.stringValue)
        // The newest 4 entries: bar 3, bar 4, the other event, bar 4 again → bars 3 and 4.
        XCTAssertEqual(data.compactMap { $0["close"]?.doubleValue }, [103, 142])
        XCTAssertEqual(data.first?["open_time"], .string(RFC3339.format(milliseconds: 1_700_000_000_000 + 3 * 3_600_000)))
        XCTAssertEqual(answer["total"]?.intValue, 2)

        let all = try KlineHistory.list(["market": "BTCUSDT", "interval": "1h"], prefix: "bedrock:", on: conn)
        XCTAssertEqual(all["data"]?.arrayValue?.compactMap { $0["close"]?.doubleValue }, [100, 101, 102, 103, 142])
    }

    func testMissingStreamIsEmptyAndBadParametersAreRefused() throws {
        let empty = try KlineHistory.list(["market": "ETHUSDT", "interval": "4h"], prefix: "bedrock:", on: conn)
        XCTAssertEqual(empty["data"]?.arrayValue?.count, 0)
        XCTAssertEqual(empty["last_id"], .null)
        for bad: JSONObject in [
            ["interval": "1h"], ["market": "btc/usdt", "interval": "1h"], ["market": "BTCUSDT", "interval": "7h"],
            ["market": "BTCUSDT", "interval": "1h", "limit": 0], ["market": "BTCUSDT", "interval": "1h", "limit": "2001"],
        ] {
            XCTAssertThrowsError(try KlineHistory.list(bad, prefix: "bedrock:", on: conn)) { error in
                XCTAssertEqual((error as? APIError)?.code, .badRequest, "\(bad)")
            }
        }
    }

    func testRouteAndRole() {
        XCTAssertEqual(RESTRoutes.match(verb: "GET", path: "/v1/klines")?.method, .klinesList)
        XCTAssertEqual(Method.klinesList.leastRole, .viewer)
    }
}
