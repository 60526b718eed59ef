import Foundation
import JSONCodec
import RedisClient
import XCTest

@testable import Bedrock

final class UserEventsTests: RedisTestCase {

    private func events(_ sub: String) throws -> [JSONObject] {
        let reply = try conn.command(["XRANGE", "bedrock:stream:user:\(sub)", "-", "+"]).checked()
        return (reply.array ?? []).compactMap { entry in
            guard let fields = entry.array, fields.count == 2, let pair = fields[1].array, pair.count == 2,
                let text = pair[1].string
            else { return nil }
            return (try? JSONCodec.parse(text))?.objectValue
        }
    }

    func testEnvelopeAddsMissingFieldsInFrontAndKeepsGivenOnes() {
        let plain = UserEvents.envelope(["message": "hi"], eventType: "notice", now: "2026-01-01T00:00:00.000Z")
        XCTAssertEqual(plain.keys, ["event_type", "schema_version", "timestamp", "message"])
        XCTAssertEqual(plain["event_type"], "notice")
        XCTAssertEqual(plain["schema_version"], "2.0")
        let given = UserEvents.envelope(
            ["timestamp": "t0", "event_type": "custom", "n": 1], eventType: "message", now: "t1")
        XCTAssertEqual(given.keys, ["schema_version", "timestamp", "event_type", "n"])
        XCTAssertEqual(given["event_type"], "custom")
        XCTAssertEqual(given["timestamp"], "t0")
    }

    func testAppendWritesToTheUsersOwnCappedStream() throws {
        let users = UserEvents(pool: RedisPool(address: redis.address), prefix: "bedrock:", maxLength: 100)
        XCTAssertEqual(UserEvents.streamKey(prefix: "bedrock:", sub: "alice"), "bedrock:stream:user:alice")
        var last = ""
        for i in 0..<300 {
            last = try users.append(sub: "alice", eventType: "job.progress", fields: ["progress": .int(Int64(i))], on: conn)
        }
        let stored = try events("alice")
        XCTAssertLessThan(stored.count, 300, "the stream is capped")
        XCTAssertEqual(stored.last?["progress"], 299)
        XCTAssertEqual(stored.last?["event_type"], "job.progress")
        XCTAssertNotNil(stored.last?["timestamp"]?.stringValue)
        XCTAssertFalse(last.isEmpty)
        XCTAssertEqual(try events("bob").count, 0)
    }

    func testPostAppendsInOrderOffTheCallersThread() throws {
        let users = UserEvents(pool: RedisPool(address: redis.address), prefix: "bedrock:", maxLength: 1000)
        for i in 0..<20 { users.post(sub: "apikey:b-1", eventType: "notice", fields: ["n": .int(Int64(i))]) }
        let deadline = Date().addingTimeInterval(5)
        while users.waiting > 0, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertEqual(try events("apikey:b-1").map { $0["n"]?.intValue }, (0..<20).map { Int64($0) })
    }

    func testFlushReturnsOnceEveryPostedEventIsWritten() throws {
        let users = UserEvents(pool: RedisPool(address: redis.address), prefix: "bedrock:", maxLength: 1000)
        for i in 0..<50 { users.post(sub: "bob", eventType: "notice", fields: ["n": .int(Int64(i))]) }
        XCTAssertTrue(users.flush(timeout: 5))
        XCTAssertEqual(users.waiting, 0)
        XCTAssertEqual(try events("bob").count, 50, "written before flush returned")
    }

    func testFlushGivesUpAtItsDeadline() {
        // Redis answers nobody for 2 s: the appends wait, the flush does not.
        _ = try? conn.command(["CLIENT", "PAUSE", "2000", "ALL"])
        defer { _ = try? conn.command(["CLIENT", "UNPAUSE"]) }
        let users = UserEvents(pool: RedisPool(address: redis.address), prefix: "bedrock:", maxLength: 1000)
        users.post(sub: "bob", eventType: "notice", fields: [:])
        let start = Date()
        XCTAssertFalse(users.flush(timeout: 0.3))
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.5)
    }

    func testPostToAnUnreachableRedisIsDroppedWithoutThrowing() {
        let users = UserEvents(
            pool: RedisPool(address: RedisAddress(host: "127.0.0.1", port: 1)), prefix: "bedrock:", maxLength: 10,
            maxPending: 2)
        for _ in 0..<5 { users.post(sub: "alice", eventType: "notice", fields: [:]) }
        XCTAssertLessThanOrEqual(users.waiting, 2, "at most maxPending appends wait")
        let deadline = Date().addingTimeInterval(5)
        while users.waiting > 0, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertEqual(users.waiting, 0)
    }

    func testJobProgressGoesOutAtMostOncePerSecondBesidesZeroAndOne() {
        let throttle = UserProgressThrottle()
        XCTAssertTrue(throttle.admit(at: 10, force: true))
        XCTAssertFalse(throttle.admit(at: 10.5, force: false))
        XCTAssertTrue(throttle.admit(at: 11.0, force: false))
        XCTAssertFalse(throttle.admit(at: 11.9, force: false))
        XCTAssertTrue(throttle.admit(at: 11.95, force: true), "1 always goes out")
    }

    func testUserStreamFramesSayUser() {
        XCTAssertEqual(EventFrameEncoder.wireName("user:alice"), "user")
        XCTAssertEqual(EventFrameEncoder.wireName("signals"), "signals")
        let frame = EventFrameEncoder.frame(
            prefix: EventFrameEncoder.prefix(topic: "user:alice"), id: "1-0", event: Array(#"{"a":1}"#.utf8))
        XCTAssertEqual(
            frame.map { String(decoding: $0, as: UTF8.self) }, #"{"type":"event","topic":"user","id":"1-0","data":{"a":1}}"#)
    }
}
