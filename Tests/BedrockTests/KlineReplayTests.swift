import Foundation
import JSONCodec
import Synchronization
import XCTest

import struct TradingCore.Bar
import struct TradingCore.BarSeries
import enum TradingCore.RFC3339

@testable import Bedrock

final class KlineReplayTests: RedisTestCase {

    private func series(_ n: Int, from start: Int = 0) -> BarSeries {
        var out = BarSeries()
        for i in start..<start + n {
            let x = Double(i)
            let time: Int64 = 1_704_067_200_000 + Int64(i) * 3_600_000
            out.append(Bar(time: time, open: 100 + x, high: 102.5 + x, low: 98.75 + x, close: 100.5 + x, volume: 10 + x))
        }
        return out
    }

    private func events(_ replay: KlineReplay) throws -> [JSONValue] {
        let reply = try conn.command(["XRANGE", replay.streamKey, "-", "+"]).checked()
        return try (reply.array ?? []).map { entry in
            let fields = entry.array![1].array!
            XCTAssertEqual(fields.count, 2)
            XCTAssertEqual(fields[0].string, "event")
            return try JSONCodec.parse(fields[1].string!)
        }
    }

    func testEventShapeAndOpenTimeRoundTrip() throws {
        let bar = series(1)[0]
        let json = KlineEvent.encode(bar, market: "BTCUSDT", interval: "1h", now: 1_800_000_000_123)
        let value = try JSONCodec.parse(json)
        XCTAssertEqual(
            value.objectValue?.keys,
            [
                "event_type", "schema_version", "timestamp", "market", "interval",
                "open_time", "open", "high", "low", "close", "volume",
            ])
        XCTAssertEqual(value["timestamp"]?.stringValue, "2027-01-15T08:00:00.123Z")
        XCTAssertEqual(value["open_time"]?.stringValue, "2024-01-01T00:00:00Z")
        XCTAssertEqual(value["low"]?.doubleValue, 98.75)
        XCTAssertEqual(KlineEvent.openTime(ofEvent: json), bar.time)
        XCTAssertNil(KlineEvent.openTime(ofEvent: #"{"event_type":"signal.created"}"#))
        XCTAssertEqual(KlineEvent.parseRFC3339("2024-01-01T01:00:00.500+01:00"), 1_704_067_200_500)
    }

    func testSymbolAndBackfillAreWrittenOnlyWhenGiven() throws {
        let bar = series(1)[0]
        let history = try JSONCodec.parse(
            KlineEvent.encode(bar, market: "BTCUSDT", interval: "1h", now: 0, symbol: "BTC/USDT", backfill: true))
        XCTAssertEqual(history["symbol"]?.stringValue, "BTC/USDT")
        XCTAssertEqual(history["backfill"]?.boolValue, true)
        let live = try JSONCodec.parse(KlineEvent.encode(bar, market: "BTCUSDT", interval: "1h", now: 0, backfill: false))
        XCTAssertNil(live["symbol"])
        XCTAssertNil(live["backfill"])
    }

    func testPublishFlagsHistoryBarsWhenAsked() throws {
        let replay = KlineReplay(connection: conn, market: "ETHUSDT", interval: "1h", prefix: "t:", maxLength: nil)
        let bars = series(10)
        XCTAssertEqual(try replay.publish(bars.slice(0..<6), from: 0, speed: 0, backfill: true), 6)
        XCTAssertEqual(try replay.publish(bars, from: 6, speed: 0), 4)
        let flags = try events(replay).map { $0["backfill"] }
        XCTAssertEqual(flags, Array(repeating: .bool(true), count: 6) + Array(repeating: nil, count: 4))
    }

    func testPublishesInOrderAndResumesAfterTheLastBar() throws {
        let replay = KlineReplay(connection: conn, market: "ETHUSDT", interval: "1h", prefix: "t:", maxLength: 1000)
        XCTAssertEqual(replay.streamKey, "t:stream:klines:ETHUSDT:1h")
        XCTAssertEqual(try replay.lastEntry(), .none)
        var batched = replay
        batched.batchSize = 7  // several pipelined batches
        let bars = series(30)
        XCTAssertEqual(try batched.publish(bars, from: 0, speed: 0), 30)
        let published = try events(replay)
        XCTAssertEqual(published.count, 30)
        for (i, event) in published.enumerated() {
            XCTAssertEqual(event["open_time"]?.stringValue, RFC3339.format(milliseconds: bars.time[i]))
            XCTAssertEqual(event["close"]?.doubleValue, bars.close[i])
            XCTAssertEqual(event["market"]?.stringValue, "ETHUSDT")
        }
        guard case let .bar(_, openTime) = try replay.lastEntry() else { return XCTFail("no last bar") }
        XCTAssertEqual(openTime, bars.time[29])
        let longer = series(40)
        XCTAssertEqual(KlineReplay.firstIndex(after: openTime, in: longer), 30)
        XCTAssertEqual(KlineReplay.firstIndex(after: openTime, in: bars), 30)
        XCTAssertEqual(KlineReplay.firstIndex(after: 0, in: bars), 0)
        XCTAssertEqual(try replay.publish(longer, from: 30, speed: 0), 10)
        XCTAssertEqual(try events(replay).count, 40)
    }

    func testUnreadableLastEntryAndPacing() throws {
        let replay = KlineReplay(connection: conn, market: "BTCUSDT", interval: "1m", prefix: "bedrock:", maxLength: nil)
        _ = try StreamAppend.append(conn, topic: "klines:BTCUSDT:1m", eventJSON: #"{"hello":1}"#)
        guard case .unreadable = try replay.lastEntry() else { return XCTFail("expected unreadable") }
        let started = Date()
        XCTAssertEqual(try replay.publish(series(6), from: 0, speed: 20), 6)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.2)  // 5 gaps of 50 ms
    }

    func testPipelineReturnsRepliesInOrderWithErrorsInPlace() throws {
        let replies = try conn.pipeline([["SET", "k", "1"], ["INCR", "k"], ["HGET", "k", "f"], ["GET", "k"]])
        XCTAssertEqual(replies.count, 4)
        XCTAssertEqual(replies[1].integer, 2)
        guard case .error = replies[2] else { return XCTFail("WRONGTYPE expected in slot 2") }
        XCTAssertEqual(replies[3].string, "2")
        XCTAssertEqual(try conn.pipeline([]), [])
    }
}

/// `bedrock replay` against a consumer group that reads slower than it could publish.
final class KlineReplayReaderTests: RedisTestCase {
    private func series(_ n: Int) -> BarSeries {
        var out = BarSeries()
        for i in 0..<n {
            out.append(
                Bar(time: 1_704_067_200_000 + Int64(i) * 60_000, open: 100, high: 101, low: 99, close: 100, volume: 1))
        }
        return out
    }

    func testPublishingNeverTrimsBarsAConsumerGroupHasNotRead() throws {
        var replay = KlineReplay(connection: conn, market: "BTCUSDT", interval: "1m", prefix: "bedrock:", maxLength: 100)
        replay.batchSize = 20
        _ = try conn.command(["XGROUP", "CREATE", replay.streamKey, "g", "$", "MKSTREAM"]).checked()
        let reader = try redis.connect()
        let key = replay.streamKey
        let read = Mutex<Int>(0)
        let done = DispatchSemaphore(value: 0)
        let deadline = Date().addingTimeInterval(20)
        Thread {
            defer { done.signal() }
            while read.withLock({ $0 }) < 1_000, Date() < deadline {
                let reply = try? reader.command(["XREADGROUP", "GROUP", "g", "c", "COUNT", "7", "STREAMS", key, ">"])
                let n = reply?.array?.first?.array?[1].array?.count ?? 0
                read.withLock { $0 += n }
                usleep(1_000)
            }
        }.start()
        XCTAssertEqual(try replay.publish(series(1_000), from: 0, speed: 0), 1_000)
        done.wait()
        XCTAssertEqual(read.withLock { $0 }, 1_000, "the reader lost bars to the trim")
    }

    func testAGroupNobodyReadsIsWaitedForOnlyStallSeconds() throws {
        var replay = KlineReplay(connection: conn, market: "BTCUSDT", interval: "1m", prefix: "bedrock:", maxLength: 100)
        replay.batchSize = 20
        replay.stallSeconds = 0.3
        _ = try conn.command(["XGROUP", "CREATE", replay.streamKey, "g", "$", "MKSTREAM"]).checked()
        _ = try conn.command(["XREADGROUP", "GROUP", "g", "c", "STREAMS", replay.streamKey, ">"]).checked()
        let started = Date()
        XCTAssertEqual(try replay.publish(series(500), from: 0, speed: 0), 500)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }
}
