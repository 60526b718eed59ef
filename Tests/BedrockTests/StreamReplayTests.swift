import Foundation
import GatewayCore
import RedisClient
import XCTest

@testable import Bedrock

final class StreamReplayTests: RedisTestCase {

    private func append(_ n: Int, topic: String = "signals") throws -> [String] {
        try (0..<n).map { i in try StreamAppend.append(conn, topic: topic, eventJSON: #"{"n":\#(i)}"#, maxLength: nil) }
    }

    func testReplayReturnsExactlySinceToPositionWhileEventsKeepArriving() throws {
        let ids = try append(10)
        let since = ids[2], position = ids[7]
        // A producer keeps appending during the replay; none of its events may leak in.
        let address = redis.address
        let stop = Promise<Bool>()
        let producer = Thread {
            guard let c = try? RedisConnection(address) else { return }
            var i = 0
            while stop.wait(timeout: 0) == nil && i < 2_000 {
                _ = try? StreamAppend.append(c, topic: "signals", eventJSON: #"{"live":\#(i)}"#, maxLength: nil)
                i += 1
            }
        }
        producer.start()
        defer { stop.fulfill(true) }
        // The replay starts once the producer's appends are arriving.
        let deadline = Date().addingTimeInterval(5)
        while try conn.command(["XLEN", "bedrock:stream:signals"]).checked().integer ?? 0 <= 10, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.005)
        }
        let result = try StreamReplay.replay(conn, topic: "signals", after: since, upTo: position, max: 100, pageSize: 2)
        XCTAssertTrue(result.recovered)
        XCTAssertEqual(result.entries.map(\.id), Array(ids[3...7]))
        XCTAssertEqual(
            String(decoding: result.entries[0].frame, as: UTF8.self),
            #"{"type":"event","topic":"signals","id":"\#(ids[3])","data":{"n":3}}"#)
        XCTAssertTrue(result.entries.allSatisfy { $0.topic == "signals" })
    }

    func testStreamTrimmedPastSinceIsNotRecoveredAndReturnsNothing() throws {
        let ids = try append(10)
        _ = try conn.command(["XTRIM", "bedrock:stream:signals", "MAXLEN", "=", "5"]).checked()  // keeps ids[5...]
        let lost = try StreamReplay.replay(conn, topic: "signals", after: ids[2], upTo: ids[9], max: 100)
        XCTAssertFalse(lost.recovered)
        XCTAssertTrue(lost.entries.isEmpty, "never a partial replay")
        let kept = try StreamReplay.replay(conn, topic: "signals", after: ids[5], upTo: ids[9], max: 100)
        XCTAssertTrue(kept.recovered)
        XCTAssertEqual(kept.entries.map(\.id), Array(ids[6...9]))
    }

    func testApproximateMaxlenTrimmingIsDetected() throws {
        var ids: [String] = []
        for i in 0..<300 {
            ids.append(try StreamAppend.append(conn, topic: "risk", eventJSON: #"{"n":\#(i)}"#, maxLength: 100))
        }
        let lost = try StreamReplay.replay(conn, topic: "risk", after: ids[0], upTo: ids[299], max: 1_000)
        XCTAssertEqual(lost.recovered, false)
        XCTAssertTrue(lost.entries.isEmpty)
        let recent = try StreamReplay.replay(conn, topic: "risk", after: ids[290], upTo: ids[299], max: 1_000)
        XCTAssertTrue(recent.recovered)
        XCTAssertEqual(recent.entries.count, 9)
    }

    func testDeletedEntryAfterSinceIsNotRecovered() throws {
        let ids = try append(5)
        _ = try conn.command(["XDEL", "bedrock:stream:signals", ids[3]]).checked()
        XCTAssertFalse(try StreamReplay.replay(conn, topic: "signals", after: ids[1], upTo: ids[4], max: 100).recovered)
        XCTAssertTrue(try StreamReplay.replay(conn, topic: "signals", after: ids[3], upTo: ids[4], max: 100).recovered)
    }

    func testSinceZeroReturnsEverythingRetained() throws {
        let ids = try append(10)
        _ = try conn.command(["XTRIM", "bedrock:stream:signals", "MAXLEN", "=", "4"]).checked()
        let result = try StreamReplay.replay(conn, topic: "signals", after: "0", upTo: ids[8], max: 100)
        XCTAssertTrue(result.recovered)
        XCTAssertEqual(result.entries.map(\.id), Array(ids[6...8]))
    }

    func testMoreThanMaxEntriesIsNotRecovered() throws {
        let ids = try append(10)
        let tooMany = try StreamReplay.replay(conn, topic: "signals", after: ids[0], upTo: ids[9], max: 8, pageSize: 3)
        XCTAssertFalse(tooMany.recovered)
        XCTAssertTrue(tooMany.entries.isEmpty)
        let exactly = try StreamReplay.replay(conn, topic: "signals", after: ids[0], upTo: ids[9], max: 9, pageSize: 3)
        XCTAssertTrue(exactly.recovered)
        XCTAssertEqual(exactly.entries.count, 9)
    }

    func testMissingStreamAndUnknownIDs() throws {
        let none = try StreamReplay.replay(conn, topic: "portfolio", after: "5-0", upTo: "0-0", max: 10)
        XCTAssertTrue(none.recovered)
        XCTAssertTrue(none.entries.isEmpty)
        XCTAssertTrue(try StreamReplay.replay(conn, topic: "portfolio", after: "0", upTo: "0-0", max: 10).recovered)
        let ids = try append(3)
        let future = "\(StreamID(ids[2])!.ms + 60_000)-0"  // an id this stream never produced
        XCTAssertFalse(try StreamReplay.replay(conn, topic: "signals", after: future, upTo: ids[2], max: 10).recovered)
        let msOnly = try StreamReplay.replay(conn, topic: "signals", after: "0-1", upTo: ids[2], max: 10)
        XCTAssertEqual(msOnly.entries.map(\.id), ids)
    }

    func testMalformedEntriesAreSkippedInReplay() throws {
        let first = try StreamAppend.append(conn, topic: "signals", eventJSON: "{}", maxLength: nil)
        _ = try conn.command(["XADD", "bedrock:stream:signals", "*", "event", "nope"]).checked()
        let last = try StreamAppend.append(conn, topic: "signals", eventJSON: "[1]", maxLength: nil)
        let result = try StreamReplay.replay(conn, topic: "signals", after: "0", upTo: last, max: 10)
        XCTAssertEqual(result.entries.map(\.id), [first, last])
    }

    func testInvalidIDsAreRefused() {
        for bad in ["abc", "1-", "-1", "$", "1-2-3", " 1", ""] {
            XCTAssertThrowsError(try StreamReplay.replay(conn, topic: "signals", after: bad, upTo: "1-0", max: 1), bad) {
                guard case RedisError.invalidArgument = $0 else { return XCTFail("\(bad): \($0)") }
            }
        }
        XCTAssertThrowsError(try StreamReplay.replay(conn, topic: "signals", after: "0", upTo: "+", max: 1))
    }
}
