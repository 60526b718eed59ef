import Foundation
import GatewayCore
import XCTest

@testable import Bedrock

final class StreamBridgeTests: XCTestCase {
    private var redis: RedisTestServer!
    private var recorder: BridgeRecorder!
    private var bridge: StreamBridge!

    override func setUpWithError() throws {
        redis = try RedisTestServer()
        recorder = BridgeRecorder()
    }

    override func tearDown() {
        bridge?.stop()
        bridge = nil
        redis = nil
    }

    /// Starts a bridge whose XREAD blocks `blockMillis`: with 5 s, anything that happens faster
    /// proves the CLIENT UNBLOCK wake-up works.
    private func startBridge(blockMillis: Int = 5_000, maxBackoff: Double = 2) {
        let recorder = self.recorder!
        bridge = StreamBridge(
            address: redis.address,
            options: .init(blockMillis: blockMillis, maxBackoff: maxBackoff),
            sink: { recorder.sink($0) }, statusChanged: { recorder.status($0) })
        bridge.start()
    }

    /// Waits (deadline 5 s) until the bridge's reader sits blocked in its `XREAD`.
    private func waitForBlockedReader() throws {
        let conn = try redis.connect()
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let clients = try conn.command(["CLIENT", "LIST"]).checked().string ?? ""
            if clients.split(separator: "\n").contains(where: { $0.contains("cmd=xread") && $0.contains(" flags=b ") }) { return }
            Thread.sleep(forTimeInterval: 0.01)
        }
        XCTFail("the reader never blocked in XREAD")
    }

    /// Runs `body` on another thread; true when it returned within `seconds`.
    private func finishes(within seconds: Double, _ body: @escaping @Sendable () -> Void) -> Bool {
        let done = DispatchSemaphore(value: 0)
        Thread {
            body(); done.signal()
        }.start()
        return done.wait(timeout: .now() + seconds) == .success
    }

    private func activate(_ topic: String) -> String? {
        let promise = Promise<String>()
        bridge.activate(topic: topic) { promise.fulfill($0) }
        return promise.wait()
    }

    func testActivateThenXAddDeliversCompactFrameWithStreamID() throws {
        startBridge()
        XCTAssertEqual(activate("signals"), "0-0")
        let conn = try redis.connect()
        let id = try StreamAppend.append(
            conn, topic: "signals",
            eventJSON: "{\n  \"event_type\": \"signal.created\",\n  \"note\": \"a\\nb\"\n}")
        XCTAssertTrue(recorder.wait { events, _ in events.count == 1 })
        let event = try XCTUnwrap(recorder.events.first)
        XCTAssertEqual(event.topic, "signals")
        XCTAssertEqual(event.id, id)
        XCTAssertEqual(
            String(decoding: event.frame, as: UTF8.self),
            #"{"type":"event","topic":"signals","id":"\#(id)","data":{"event_type":"signal.created","note":"a\nb"}}"#)
        XCTAssertFalse(event.frame.contains(UInt8(ascii: "\n")))
        XCTAssertEqual(bridge.stats().eventsIngested["signals"], 1)
    }

    func testPositionIsNewestIDAndOnlyLaterEventsFollow() throws {
        let conn = try redis.connect()
        try StreamAppend.append(conn, topic: "risk", eventJSON: #"{"n":1}"#)
        let second = try StreamAppend.append(conn, topic: "risk", eventJSON: #"{"n":2}"#)
        startBridge()
        XCTAssertEqual(activate("risk"), second)
        let third = try StreamAppend.append(conn, topic: "risk", eventJSON: #"{"n":3}"#)
        let fourth = try StreamAppend.append(conn, topic: "risk", eventJSON: #"{"n":4}"#)
        XCTAssertTrue(recorder.wait { events, _ in events.last?.id == fourth })
        XCTAssertEqual(recorder.events.map(\.id), [third, fourth], "nothing at or before the position")
    }

    func testTopicAddedWhileReaderIsBlockedIsPickedUpAtOnce() throws {
        startBridge(blockMillis: 60_000)
        XCTAssertNotNil(activate("signals"))
        try waitForBlockedReader()  // for a minute, unless woken
        XCTAssertEqual(activate("klines:BTC-USDT:1m"), "0-0", "activation waited for the BLOCK timeout")
        let conn = try redis.connect()
        let k = try StreamAppend.append(conn, topic: "klines:BTC-USDT:1m", eventJSON: #"{"event_type":"kline.closed"}"#)
        let s = try StreamAppend.append(conn, topic: "signals", eventJSON: #"{"event_type":"signal.created"}"#)
        XCTAssertTrue(recorder.wait { events, _ in events.count == 2 })
        XCTAssertEqual(
            Set(recorder.events.map { "\($0.topic) \($0.id!)" }),
            ["klines:BTC-USDT:1m \(k)", "signals \(s)"])
        XCTAssertEqual(bridge.stats().activeTopics, 2)
    }

    func testDeactivatedTopicStopsDeliveringAndSecondActivationSharesPosition() throws {
        startBridge()
        XCTAssertNotNil(activate("risk"))
        XCTAssertNotNil(activate("signals"))
        let conn = try redis.connect()
        let first = try StreamAppend.append(conn, topic: "risk", eventJSON: "{}")
        XCTAssertTrue(recorder.wait { events, _ in events.count == 1 })
        XCTAssertEqual(activate("risk"), first, "a second subscriber starts where the bridge is")
        bridge.deactivate(topic: "risk")  // one reference left: still bridged
        let second = try StreamAppend.append(conn, topic: "risk", eventJSON: "{}")
        XCTAssertTrue(recorder.wait { events, _ in events.count == 2 })
        bridge.deactivate(topic: "risk")  // none left
        XCTAssertNotNil(activate("portfolio"))  // completes after the deactivation was applied
        try StreamAppend.append(conn, topic: "risk", eventJSON: "{}")
        let last = try StreamAppend.append(conn, topic: "signals", eventJSON: "{}")
        XCTAssertTrue(recorder.wait { events, _ in events.count == 3 })
        XCTAssertEqual(recorder.events.map(\.id), [first, second, last])
    }

    func testMalformedEventsAreSkippedAndCounted() throws {
        startBridge()
        XCTAssertNotNil(activate("signals"))
        let conn = try redis.connect()
        let key = "bedrock:stream:signals"
        _ = try conn.command(["XADD", key, "*", "event", "{not json"]).checked()
        _ = try conn.command(["XADD", key, "*", "other", #"{"a":1}"#]).checked()
        _ = try conn.command(binary: [
            Array("XADD".utf8), Array(key.utf8), Array("*".utf8), Array("event".utf8),
            [0x22, 0xff, 0xfe, 0x22],
        ]).checked()  // invalid UTF-8
        let good = try StreamAppend.append(conn, topic: "signals", eventJSON: #"{"ok":true}"#)
        let last = try StreamAppend.append(conn, topic: "signals", eventJSON: #"{"ok":"last"}"#)
        XCTAssertTrue(recorder.wait { events, _ in events.last?.id == last })
        XCTAssertEqual(recorder.events.map(\.id), [good, last])
        let stats = bridge.stats()
        XCTAssertEqual(stats.malformedEvents, 3)
        XCTAssertEqual(stats.eventsIngested["signals"], 2)
    }

    func testRedisKilledAndRestartedMidSubscription() throws {
        startBridge(blockMillis: 500, maxBackoff: 0.2)
        XCTAssertTrue(recorder.wait { _, statuses in statuses == [true] })
        XCTAssertNotNil(activate("signals"))
        var conn = try redis.connect()
        let before = try StreamAppend.append(conn, topic: "signals", eventJSON: #"{"n":1}"#)
        XCTAssertTrue(recorder.wait { events, _ in events.count == 1 })

        redis.kill()
        XCTAssertTrue(recorder.wait { _, statuses in statuses == [true, false] }, "down not reported \(recorder.statuses)")
        XCTAssertFalse(bridge.isUp)
        try redis.start()
        conn = try redis.connect()
        let during = try StreamAppend.append(conn, topic: "signals", eventJSON: #"{"n":2}"#)
        XCTAssertTrue(recorder.wait { _, statuses in statuses == [true, false, true] }, "up not reported \(recorder.statuses)")
        let after = try StreamAppend.append(conn, topic: "signals", eventJSON: #"{"n":3}"#)
        let last = try StreamAppend.append(conn, topic: "signals", eventJSON: #"{"n":4}"#)
        XCTAssertTrue(recorder.wait { events, _ in events.last?.id == last })
        XCTAssertEqual(recorder.events.map(\.id), [before, during, after, last], "nothing lost, nothing twice")
        XCTAssertEqual(bridge.stats().reconnects, 1)
        XCTAssertTrue(bridge.isUp)
    }

    func testActivationWhileRedisIsDownCompletesWhenItReturns() throws {
        startBridge(blockMillis: 500, maxBackoff: 0.2)
        XCTAssertTrue(recorder.wait { _, statuses in statuses == [true] })
        redis.kill()
        XCTAssertTrue(recorder.wait { _, statuses in statuses.last == false })
        let promise = Promise<String>()
        bridge.activate(topic: "signals") { promise.fulfill($0) }
        XCTAssertNil(promise.wait(timeout: 0.3))
        try redis.start()
        XCTAssertEqual(promise.wait(), "0-0")
    }

    func testStopReturnsPromptlyWhileBlocked() throws {
        startBridge(blockMillis: 60_000)
        XCTAssertNotNil(activate("signals"))
        try waitForBlockedReader()
        let bridge = self.bridge!
        XCTAssertTrue(finishes(within: 10) { bridge.stop() }, "stop waited for the minute-long BLOCK")
    }

    func testKeyThatIsNotAStreamDoesNotStallOtherTopics() throws {
        let conn = try redis.connect()
        _ = try conn.command(["SET", "bedrock:stream:broken", "not a stream"]).checked()
        startBridge()
        XCTAssertEqual(activate("broken"), "0-0")
        XCTAssertNotNil(activate("signals"))
        XCTAssertNotNil(activate("risk"))
        let first = try StreamAppend.append(conn, topic: "signals", eventJSON: "{}")
        XCTAssertTrue(recorder.wait { events, _ in events.count == 1 })
        // A bridged stream replaced by a string while subscribed: the others keep flowing.
        _ = try conn.command(["DEL", "bedrock:stream:risk"]).checked()
        _ = try conn.command(["SET", "bedrock:stream:risk", "oops"]).checked()
        let second = try StreamAppend.append(conn, topic: "signals", eventJSON: "{}")
        XCTAssertTrue(recorder.wait { events, _ in events.count == 2 })
        let third = try StreamAppend.append(conn, topic: "signals", eventJSON: "{}")
        XCTAssertTrue(recorder.wait { events, _ in events.count == 3 })
        XCTAssertEqual(recorder.events.map(\.id), [first, second, third])
    }
}
