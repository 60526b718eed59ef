import GatewayCore
import JSONCodec
import TradingCore
import XCTest

@testable import Bedrock

/// `klines.list` / `GET /v1/klines`: bars of a klines stream by open-time range, oldest first,
/// found without reading the stream whole.
final class KlineHistoryTests: RedisTestCase {
    private let key = "bedrock:stream:klines:BTCUSDT:1h"
    private let t0: Int64 = 1_700_000_000_000
    private let hour: Int64 = 3_600_000

    private func event(_ h: Int64, close: Double) -> String {
        let bar = Bar(time: t0 + h * hour, open: 100, high: close + 1, low: 99, close: close, volume: 5)
        return KlineEvent.encode(bar, market: "BTCUSDT", interval: "1h", now: 0)
    }

    private func publish(_ h: Int64, close: Double) throws {
        _ = try conn.command(["XADD", key, "*", "event", event(h, close: close)]).checked()
    }

    /// Bars 0..<n, pipelined in batches (many entries share one millisecond of their ids).
    private func publishMany(_ n: Int) throws {
        var batch: [[String]] = []
        for h in 0..<n {
            batch.append(["XADD", key, "*", "event", event(Int64(h), close: 100 + Double(h % 50))])
            if batch.count == 2000 || h == n - 1 {
                _ = try conn.pipeline(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
    }

    private func list(_ params: JSONObject) throws -> JSONValue {
        try KlineHistory.list(params, prefix: "bedrock:", on: conn)
    }

    private func hours(_ answer: JSONValue) -> [Int64] {
        (answer["data"]?.arrayValue ?? []).compactMap { bar in
            bar["open_time"]?.stringValue.flatMap(KlineEvent.parseRFC3339).map { ($0 - t0) / hour }
        }
    }

    private func time(_ h: Int64) -> JSONValue { .string(RFC3339.format(milliseconds: t0 + h * hour)) }

    func testLatestBarsOldestFirstOnePerOpenTime() throws {
        for h in 0..<5 { try publish(Int64(h), close: 100 + Double(h)) }
        _ = try conn.command(["XADD", key, "*", "event", "{\"event_type\":\"something.else\"}"]).checked()
        try publish(4, close: 142)  // bar 4 published again: the newest event wins

        let answer = try list(["market": "btc/usdt", "interval": "1h", "limit": "4"])
        let data = try XCTUnwrap(answer["data"]?.arrayValue)
        XCTAssertEqual(answer["market"], "BTCUSDT")
        XCTAssertEqual(answer["topic"], "klines:BTCUSDT:1h")
        XCTAssertNotNil(answer["last_id"]?.stringValue)
        // The newest 4 entries: bar 3, bar 4, the other event, bar 4 again → bars 3 and 4.
        XCTAssertEqual(data.compactMap { $0["close"]?.doubleValue }, [103, 142])
        XCTAssertEqual(data.first?["open_time"], time(3))
        XCTAssertEqual(answer["total"]?.intValue, 2)

        let all = try list(["market": "BTC_USDT", "interval": "1h"])
        XCTAssertEqual(all["data"]?.arrayValue?.compactMap { $0["close"]?.doubleValue }, [100, 101, 102, 103, 142])
    }

    func testRangesAreInclusiveOnOpenTime() throws {
        for h in 0..<40 { try publish(Int64(h), close: 100 + Double(h)) }
        // start alone: the first `limit` bars from start.
        XCTAssertEqual(hours(try list(["market": "BTCUSDT", "interval": "1h", "start": time(10), "limit": 3])), [10, 11, 12])
        // start and end, both inclusive; epoch ms as a number or as digits.
        XCTAssertEqual(
            hours(
                try list([
                    "market": "BTCUSDT", "interval": "1h", "start": .int(t0 + 10 * hour), "end": .string("\(t0 + 13 * hour)"),
                ])),
            [10, 11, 12, 13])
        // A start between two bars begins at the next one.
        XCTAssertEqual(
            hours(try list(["market": "BTCUSDT", "interval": "1h", "start": .int(t0 + 10 * hour + 1), "limit": 2])), [11, 12])
        // end alone: the newest `limit` bars up to end.
        XCTAssertEqual(hours(try list(["market": "BTCUSDT", "interval": "1h", "end": time(20), "limit": 3])), [18, 19, 20])
        XCTAssertEqual(
            hours(try list(["market": "BTCUSDT", "interval": "1h", "end": .int(t0 + 20 * hour - 1), "limit": 2])), [18, 19])
        // Before the first bar, after the last one, and a range that misses every bar.
        XCTAssertEqual(hours(try list(["market": "BTCUSDT", "interval": "1h", "start": .int(0), "limit": 2])), [0, 1])
        XCTAssertEqual(hours(try list(["market": "BTCUSDT", "interval": "1h", "start": time(40)])), [])
        XCTAssertEqual(hours(try list(["market": "BTCUSDT", "interval": "1h", "end": .int(t0 - 1)])), [])
        XCTAssertEqual(hours(try list(["market": "BTCUSDT", "interval": "1h", "end": time(99), "limit": 2])), [38, 39])
        let none = try list([
            "market": "BTCUSDT", "interval": "1h", "start": .int(t0 + 5 * hour + 1), "end": .int(t0 + 6 * hour - 1),
        ])
        XCTAssertEqual(none["total"], 0)
        // An RFC 3339 time with an offset names the same instant.
        XCTAssertEqual(
            hours(try list(["market": "BTCUSDT", "interval": "1h", "start": "2023-11-15T00:13:20+01:00", "limit": 1])), [1])
    }

    func testIdsAtTheTopOfTheIdSpaceAndAnOlderBarAppendedAgain() throws {
        for (id, h) in [("5-0", 0), ("6-0", 1), ("18446744073709551615-0", 2)] {
            _ = try conn.command(["XADD", key, id, "event", event(Int64(h), close: 100 + Double(h))]).checked()
        }
        XCTAssertEqual(hours(try list(["market": "BTCUSDT", "interval": "1h", "start": time(1)])), [1, 2])
        XCTAssertEqual(hours(try list(["market": "BTCUSDT", "interval": "1h", "start": time(2)])), [2])
        XCTAssertEqual(hours(try list(["market": "BTCUSDT", "interval": "1h", "end": time(1)])), [0, 1])
        _ = try conn.command(["DEL", key]).checked()
        for h in 0..<3 { try publish(Int64(h), close: 100 + Double(h)) }
        try publish(1, close: 142)  // an outside publisher appends bar 1 again, after bar 2
        let answer = try list(["market": "BTCUSDT", "interval": "1h"])
        XCTAssertEqual(hours(answer), [0, 1, 2])
        XCTAssertEqual(answer["data"]?.arrayValue?.compactMap { $0["close"]?.doubleValue }, [100, 142, 102])
    }

    func testTheSearchFindsEveryBarInAStreamOfManyEntriesPerMillisecond() throws {
        try publishMany(3000)
        let search = KlineStreamSearch(connection: conn, key: key)
        let ids = try XCTUnwrap(conn.command(["XRANGE", key, "-", "+"]).checked().array).compactMap {
            $0.array?.first?.string.flatMap(StreamID.init)
        }
        XCTAssertEqual(ids.count, 3000)
        XCTAssertLessThan(Set(ids.map(\.ms)).count, 1000, "pipelined entries share milliseconds")
        for h in [0, 1, 2, 777, 1999, 2000, 2001, 2998, 2999] {
            XCTAssertEqual(try search.firstEntry(openingAtOrAfter: t0 + Int64(h) * hour), ids[h], "bar \(h)")
            XCTAssertEqual(try search.firstEntry(openingAtOrAfter: t0 + Int64(h) * hour - 1), ids[h], "just before bar \(h)")
        }
        XCTAssertNil(try search.firstEntry(openingAtOrAfter: t0 + 3000 * hour))
    }

    /// Stream reads (`XRANGE` + `XREVRANGE` calls, from Redis' command statistics) since the last
    /// call; the statistics are reset.
    private func streamReads() throws -> Int {
        let info = try XCTUnwrap(conn.command(["INFO", "commandstats"]).checked().string)
        _ = try conn.command(["CONFIG", "RESETSTAT"]).checked()
        return info.split(whereSeparator: \.isNewline).reduce(0) { sum, line in
            guard line.hasPrefix("cmdstat_xrange:") || line.hasPrefix("cmdstat_xrevrange:"),
                let calls = line.split(separator: "=").dropFirst().first?.split(separator: ",").first
            else { return sum }
            return sum + (Int(calls) ?? 0)
        }
    }

    func testARangeOfAHundredThousandEntryStreamReadsOnlyWhatItAnswers() throws {
        try publishMany(100_000)
        _ = try streamReads()
        let start = Date()
        let answer = try list(["market": "BTCUSDT", "interval": "1h", "start": time(54_321), "end": time(54_330)])
        let middle = Date().timeIntervalSince(start)
        let reads = try streamReads()
        XCTAssertEqual(hours(answer), Array(54_321...54_330))
        // A bisection: some tens of probes of 8 entries, then one read of the answer.
        XCTAssertLessThan(reads, 80, "stream reads for one range")
        let t1 = Date()
        let older = try list(["market": "BTCUSDT", "interval": "1h", "end": time(1234), "limit": 5000])
        let byEnd = Date().timeIntervalSince(t1)
        XCTAssertEqual(hours(older), Array(0...1234))
        let t2 = Date()
        let full = try list(["market": "BTCUSDT", "interval": "1h", "start": time(10_000), "limit": 5000])
        let page = Date().timeIntervalSince(t2)
        XCTAssertEqual(hours(full).first, 10_000)
        XCTAssertEqual(hours(full).count, 5000)
        print(
            String(
                format:
                    "klines.list on 100,000 entries: 10 bars mid-stream %.1f ms (%d stream reads), 1235 bars by end %.1f ms, 5000 bars %.1f ms",
                middle * 1000, reads, byEnd * 1000, page * 1000))
    }

    func testMissingStreamIsEmptyAndBadParametersAreRefused() throws {
        let empty = try list(["market": "eth-usdt", "interval": "4h"])
        XCTAssertEqual(empty["data"]?.arrayValue?.count, 0)
        XCTAssertEqual(empty["market"], "ETHUSDT")
        XCTAssertEqual(empty["last_id"], .null)
        let bad: [(JSONObject, String)] = [
            (["interval": "1h"], "market is required"),
            (["market": "BTC//USDT", "interval": "1h"], "market must be 1-32 letters"),
            (["market": "BTCUSDT", "interval": "7h"], "interval must be one of"),
            (["market": "BTCUSDT"], "interval is required"),
            (["market": "BTCUSDT", "interval": "1h", "limit": 0], "limit must be"),
            (["market": "BTCUSDT", "interval": "1h", "limit": "5001"], "limit must be a whole number from 1 to 5000"),
            (["market": "BTCUSDT", "interval": "1h", "start": "yesterday"], "start must be an RFC 3339 time"),
            (["market": "BTCUSDT", "interval": "1h", "end": .bool(true)], "end must be an RFC 3339 time"),
            (["market": "BTCUSDT", "interval": "1h", "start": .int(10), "end": .int(9)], "end must not be before start"),
        ]
        for (params, message) in bad {
            XCTAssertThrowsError(try list(params)) { error in
                XCTAssertEqual((error as? APIError)?.code, .badRequest, "\(params)")
                XCTAssertEqual((error as? APIError)?.message.hasPrefix(message), true, "\(params): \(error)")
            }
        }
        XCTAssertEqual(try KlineHistory.parse(["market": "BTCUSDT", "interval": "1h"]).limit, 500)
        XCTAssertEqual(try KlineHistory.parse(["market": "BTCUSDT", "interval": "1h", "limit": "5000"]).limit, 5000)
    }

    func testRouteAndRole() {
        XCTAssertEqual(RESTRoutes.match(verb: "GET", path: "/v1/klines")?.method, .klinesList)
        XCTAssertEqual(Method.klinesList.leastRole, .viewer)
    }
}
