import Foundation
import GatewayCore
import RedisClient
import XCTest

@testable import Bedrock

/// The bridge against a producer that trims faster than it reads: the hole becomes a gap frame
/// ahead of the entries after it.
final class StreamBridgeGapTests: XCTestCase {
    private var redis: RedisTestServer!
    private var recorder: BridgeRecorder!
    private var bridge: StreamBridge!

    override func setUpWithError() throws {
        redis = try RedisTestServer()
        recorder = BridgeRecorder()
        let recorder = self.recorder!
        bridge = StreamBridge(address: redis.address, sink: { recorder.sink($0) })
        bridge.start()
    }

    override func tearDown() {
        bridge?.stop()
        bridge = nil
        redis = nil
    }

    private func activate(_ topic: String) -> String? {
        let promise = Promise<String>()
        bridge.activate(topic: topic) { promise.fulfill($0) }
        return promise.wait()
    }

    /// `count` XADDs trimming to about `maxlen`, inside one MULTI: no read can come in between.
    private func burst(_ conn: RedisConnection, _ count: Int, maxlen: Int) throws -> [String] {
        let adds = (0..<count).map { i in
            ["XADD", "bedrock:stream:signals", "MAXLEN", "~", String(maxlen), "*", "event", #"{"n":\#(i)}"#]
        }
        let replies = try conn.pipeline([["MULTI"]] + adds + [["EXEC"]])
        return try XCTUnwrap(replies.last?.array).compactMap(\.string)
    }

    func testEntriesTrimmedBeforeTheReadComeAsAGapFrameBeforeTheNextEvents() throws {
        XCTAssertEqual(activate("signals"), "0-0")
        let conn = try redis.connect()
        let first = try StreamAppend.append(conn, topic: "signals", eventJSON: #"{"n":-1}"#)
        XCTAssertTrue(recorder.wait { events, _ in events.count == 1 })
        let ids = try burst(conn, 1000, maxlen: 10)
        XCTAssertTrue(recorder.wait { events, _ in events.last?.id == ids.last })
        let events = recorder.events
        let gap = try XCTUnwrap(events.first { $0.isGap })
        let next = try XCTUnwrap(events.first { !$0.isGap && $0.id != first })
        XCTAssertEqual(
            String(decoding: gap.frame, as: UTF8.self),
            #"{"type":"gap","topic":"signals","after":"\#(first)","next":"\#(next.id!)"}"#)
        XCTAssertEqual(events.map(\.isGap), [false, true] + Array(repeating: false, count: events.count - 2))
        XCTAssertEqual(events.filter { !$0.isGap }.count - 1, Int(ids.count) - ids.firstIndex(of: next.id!)!)
        XCTAssertEqual(bridge.stats().gaps, 1)
    }

    func testTrimmingOnlyWhatWasReadIsNoGap() throws {
        XCTAssertEqual(activate("signals"), "0-0")
        let conn = try redis.connect()
        var last = ""
        for i in 0..<300 {
            last = try XCTUnwrap(
                conn.command(["XADD", "bedrock:stream:signals", "MAXLEN", "5", "*", "event", #"{"n":\#(i)}"#]).string)
            XCTAssertTrue(recorder.wait { events, _ in events.last?.id == last })
        }
        XCTAssertFalse(recorder.events.contains { $0.isGap })
        XCTAssertEqual(bridge.stats().gaps, 0)
    }
}
