import Foundation
import JSONCodec
import RedisClient
import XCTest

import struct TradingCore.Bar
import enum TradingCore.RFC3339

@testable import Bedrock

/// `KlineAppender` on a real Redis: exactly once and in order whatever is sent, the stream's last
/// bar read from its events (ours, or another writer's), the cap, and the event fields.
final class KlineAppenderTests: RedisTestCase {
    private let t0: Int64 = 1_704_067_200_000
    private let hour: Int64 = 3_600_000

    private func bars(_ indices: [Int]) -> [Bar] {
        indices.map { i in
            let x = Double(i)
            return Bar(time: t0 + Int64(i) * hour, open: 100 + x, high: 102 + x, low: 99 + x, close: 101 + x, volume: 1.5)
        }
    }

    private func events(_ appender: KlineAppender) throws -> [JSONValue] {
        let reply = try conn.command(["XRANGE", appender.streamKey(market: "BTCUSDT", interval: "1h"), "-", "+"]).checked()
        return try (reply.array ?? []).map { try JSONCodec.parse($0.array![1].array![1].string!) }
    }

    func testBarsAreAppendedOnceAndInOrderWhateverIsSent() throws {
        let appender = try KlineAppender(prefix: "t:")
        XCTAssertNil(try appender.lastOpenTime(market: "BTCUSDT", interval: "1h", on: conn))
        var r = try appender.append(
            bars([0, 1, 2]), market: "BTCUSDT", symbol: "BTC/USDT", interval: "1h", backfill: true, nowMillis: 5, on: conn)
        XCTAssertEqual(r.appended, 3)
        XCTAssertEqual(r.lastOpenTime, t0 + 2 * hour)
        // The same batch again, an overlapping one, and one with an old and a repeated bar inside.
        r = try appender.append(
            bars([0, 1, 2]), market: "BTCUSDT", symbol: nil, interval: "1h", backfill: false, nowMillis: 6, on: conn)
        XCTAssertEqual(r.appended, 0)
        r = try appender.append(
            bars([2, 3, 1, 3, 5]), market: "BTCUSDT", symbol: "BTC/USDT", interval: "1h",
            backfill: { $0.time < self.t0 + 4 * self.hour },
            nowMillis: 7, on: conn)
        XCTAssertEqual(r.appended, 2)
        XCTAssertEqual(r.lastOpenTime, t0 + 5 * hour)
        let all = try events(appender)
        XCTAssertEqual(
            all.map { $0["open_time"]?.stringValue }, [0, 1, 2, 3, 5].map { RFC3339.format(milliseconds: t0 + $0 * hour) })
        XCTAssertEqual(all.map { $0["backfill"]?.boolValue }, [true, true, true, true, nil])
        XCTAssertEqual(all.map { $0["symbol"]?.stringValue }, Array(repeating: "BTC/USDT", count: 5))
        XCTAssertEqual(all[0]["event_type"]?.stringValue, "kline.closed")
        XCTAssertEqual(all[0]["market"]?.stringValue, "BTCUSDT")
        XCTAssertEqual(all[0]["close"]?.doubleValue, 101)
        XCTAssertEqual(try appender.lastOpenTime(market: "BTCUSDT", interval: "1h", on: conn), t0 + 5 * hour)
    }

    func testTheLastBarOfAnotherWriterCountsInEverySpellingItMayUse() throws {
        let appender = try KlineAppender(prefix: "t:")
        let key = appender.streamKey(market: "BTCUSDT", interval: "1h")
        let cases: [(String, Int64)] = [
            (#""2024-01-01T05:00:00Z""#, t0 + 5 * hour),
            (#""2024-01-01T05:00:00.250Z""#, t0 + 5 * hour + 250),
            (#""2024-01-01T07:00:00+02:00""#, t0 + 5 * hour),
            (#""2023-12-31T23:30:00-05:30""#, t0 + 5 * hour),
            ("1704085200000", t0 + 5 * hour),
            (#""2028-02-29T00:00:00Z""#, 1_835_395_200_000),
        ]
        for (openTime, expected) in cases {
            _ = try conn.command(["DEL", key])
            _ = try conn.command([
                "XADD", key, "*", "event", #"{"event_type":"kline.closed","market":"BTCUSDT","open_time":\#(openTime)}"#,
            ]).checked()
            XCTAssertEqual(try appender.lastOpenTime(market: "BTCUSDT", interval: "1h", on: conn), expected, openTime)
            let json = #"{"event_type":"kline.closed","open_time":\#(openTime)}"#
            XCTAssertEqual(KlineEvent.openTime(ofEvent: json), expected, "the gateway's own reader agrees: \(openTime)")
        }
        // Entries that are not kline events are passed over...
        _ = try conn.command(["XADD", key, "*", "event", "not json"]).checked()
        _ = try conn.command(["XADD", key, "*", "other", "field"]).checked()
        XCTAssertEqual(try appender.lastOpenTime(market: "BTCUSDT", interval: "1h", on: conn), 1_835_395_200_000)
        // ...but a stream holding none at all is refused: where it stands is unknown.
        _ = try conn.command(["DEL", key])
        _ = try conn.command(["XADD", key, "*", "event", #"{"event_type":"signal.created"}"#]).checked()
        XCTAssertThrowsError(
            try appender.append(
                bars([0]), market: "BTCUSDT", symbol: nil, interval: "1h", backfill: false, nowMillis: 0, on: conn)
        ) { XCTAssertTrue("\($0)".contains("not kline.closed events"), "\($0)") }
    }

    func testTheStreamIsCappedAtRetainBars() throws {
        let appender = try KlineAppender(prefix: "t:", retainBars: 100)
        let r = try appender.append(
            bars(Array(0..<2000)), market: "BTCUSDT", symbol: nil, interval: "1h", backfill: true, nowMillis: 0, on: conn)
        XCTAssertEqual(r.appended, 2000)
        let length = try conn.command(["XLEN", appender.streamKey(market: "BTCUSDT", interval: "1h")]).checked().integer!
        XCTAssertLessThan(length, 400, "MAXLEN ~ 100 trims whole nodes")
        XCTAssertGreaterThanOrEqual(length, 100)
        XCTAssertEqual(try appender.lastOpenTime(market: "BTCUSDT", interval: "1h", on: conn), t0 + 1999 * hour)
    }
}
