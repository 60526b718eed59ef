import Foundation
import RedisClient
import XCTest

@testable import Bedrock

final class PubSubBridgeTests: XCTestCase {
    private var redis: RedisTestServer!
    private var recorder: BridgeRecorder!
    private var bridge: PubSubBridge!

    override func setUpWithError() throws {
        redis = try RedisTestServer()
        recorder = BridgeRecorder()
        let recorder = self.recorder!
        bridge = PubSubBridge(
            address: redis.address, channels: ["dfp:opportunities:ws": "opportunities"],
            maxBackoff: 0.2, sink: { recorder.sink($0) }, statusChanged: { recorder.status($0) })
        bridge.start()
    }

    override func tearDown() {
        bridge?.stop()
        bridge = nil
        redis = nil
    }

    /// Waits until the bridge's SUBSCRIBE is registered on the server.
    private func waitForSubscriber(_ conn: RedisConnection) throws -> Bool {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let reply = try conn.command(["PUBSUB", "NUMSUB", "dfp:opportunities:ws"]).checked()
            if reply.array?.last?.integer == 1 { return true }
            usleep(20_000)
        }
        return false
    }

    func testPublishedMessagesBecomeEventsWithNullID() throws {
        let conn = try redis.connect()
        XCTAssertTrue(try waitForSubscriber(conn))
        _ = try conn.command(["PUBLISH", "dfp:opportunities:ws", "not json"]).checked()
        _ = try conn.command(["PUBLISH", "other:channel", #"{"x":1}"#]).checked()
        _ = try conn.command(["PUBLISH", "dfp:opportunities:ws", "{\"market\": \"BTC-USDT\",\n \"score\": 91}"]).checked()
        // A last message marks the end: the channel keeps order, so nothing else can follow it.
        _ = try conn.command(["PUBLISH", "dfp:opportunities:ws", #"{"last":true}"#]).checked()
        XCTAssertTrue(recorder.wait { events, _ in events.count >= 2 })
        let events = recorder.events
        XCTAssertEqual(events.count, 2)
        XCTAssertEqual(
            String(decoding: events[1].frame, as: UTF8.self),
            #"{"type":"event","topic":"opportunities","id":null,"data":{"last":true}}"#)
        XCTAssertNil(events[0].id)
        XCTAssertEqual(
            String(decoding: events[0].frame, as: UTF8.self),
            #"{"type":"event","topic":"opportunities","id":null,"data":{"market":"BTC-USDT","score":91}}"#)
        let stats = bridge.stats()
        XCTAssertEqual(stats.eventsIngested, ["opportunities": 2])
        XCTAssertEqual(stats.malformedEvents, 1)
        XCTAssertTrue(stats.redisUp)
    }

    func testResubscribesAfterRedisRestart() throws {
        XCTAssertTrue(recorder.wait { _, statuses in statuses == [true] })
        redis.kill()
        XCTAssertTrue(recorder.wait { _, statuses in statuses == [true, false] })
        try redis.start()
        XCTAssertTrue(recorder.wait { _, statuses in statuses == [true, false, true] })
        let conn = try redis.connect()
        XCTAssertTrue(try waitForSubscriber(conn))
        _ = try conn.command(["PUBLISH", "dfp:opportunities:ws", #"{"after":"restart"}"#]).checked()
        XCTAssertTrue(recorder.wait { events, _ in events.count == 1 })
        XCTAssertEqual(frameObject(recorder.events[0])?["topic"] as? String, "opportunities")
    }
}
