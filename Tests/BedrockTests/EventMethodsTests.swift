import Foundation
import GatewayCore
import JSONCodec
import JWTAuth
import RedisClient
import Synchronization
import XCTest

@testable import Bedrock

/// `events.publish` / `events.history` parsing, and the publish script against a real redis.
final class EventMethodsTests: RedisTestCase {
    private let now = "2026-01-01T00:00:00.000Z"

    private func refusal(_ body: () throws -> Void) -> APIError? {
        do {
            try body()
            return nil
        } catch let error as APIError {
            return error
        } catch {
            XCTFail("unexpected \(error)")
            return nil
        }
    }

    func testIdempotencyRecordsOfTwoCallersNeverShareAKey() {
        let one = EventMethods.idempotencyKey(prefix: "p:", caller: "a", "b:c")
        let other = EventMethods.idempotencyKey(prefix: "p:", caller: "a:b", "c")
        XCTAssertNotEqual(one, other)
        XCTAssertEqual(one, "p:idempotency:a:b:c")
        XCTAssertEqual(other, "p:idempotency:a%3Ab:c")
        XCTAssertEqual(EventMethods.idempotencyKey(prefix: "p:", caller: "apikey:x%", "k"), "p:idempotency:apikey%3Ax%25:k")
    }

    func testPublishTopicsAndTheAddressedForm() throws {
        XCTAssertEqual(EventTopic("klines:btc-usdt:1h")?.name, "klines:BTCUSDT:1h")
        XCTAssertEqual(EventTopic("user:apikey:b-1")?.user, "apikey:b-1")
        XCTAssertEqual(EventTopic("user:alice")?.name, "user:alice")
        for bad in ["user", "user:", "nope", "klines:BTCUSDT", "user:a\u{7}b", "user:" + String(repeating: "x", count: 201)] {
            XCTAssertNil(EventTopic(bad), bad)
        }
    }

    func testPublishRequestAddsTheEnvelopeAndDigestsTopicAndData() throws {
        let request = try PublishRequest.parse(
            ["topic": "signals", "data": ["x": 1], "idempotency_key": "k-1"], caller: "ops", now: now)
        XCTAssertEqual(request.eventJSON, #"{"event_type":"message","schema_version":"2.0","timestamp":"\#(now)","x":1}"#)
        XCTAssertEqual(request.idempotencyKey, "k-1")
        let later = try PublishRequest.parse(
            ["topic": "signals", "data": ["x": 1], "idempotency_key": "k-2"], caller: "ops", now: "2027-01-01T00:00:00.000Z")
        XCTAssertEqual(later.digest, request.digest, "the digest ignores the envelope the gateway adds")
        let otherData = try PublishRequest.parse(
            ["topic": "signals", "data": ["x": 2], "idempotency_key": "k-1"], caller: "ops", now: now)
        let otherTopic = try PublishRequest.parse(
            ["topic": "risk", "data": ["x": 1], "idempotency_key": "k-1"], caller: "ops", now: now)
        XCTAssertNotEqual(otherData.digest, request.digest)
        XCTAssertNotEqual(otherTopic.digest, request.digest)
    }

    func testPublishRequestRefusals() {
        let big = JSONValue.string(String(repeating: "x", count: PublishRequest.maxDataBytes))
        let cases: [(JSONObject, String)] = [
            (["data": [:]], "topic"),
            (["topic": "signals"], "data"),
            (["topic": "signals", "data": [1]], "data"),
            (["topic": "signals", "data": ["blob": big]], "data"),
            (["topic": "signals", "data": [:], "idempotency_key": ""], "idempotency_key"),
            (["topic": "signals", "data": [:], "idempotency_key": "tab\there"], "idempotency_key"),
            (
                ["topic": "signals", "data": [:], "idempotency_key": .string(String(repeating: "k", count: 201))],
                "idempotency_key"
            ),
            (["topic": "signals", "data": [:], "idempotency_key": 5], "idempotency_key"),
        ]
        for (params, named) in cases {
            let error = refusal { _ = try PublishRequest.parse(params, caller: "ops", now: now) }
            XCTAssertEqual(error?.code, .badRequest, "\(params)")
            XCTAssertTrue(error?.message.contains(named) ?? false, "\(params): \(error?.message ?? "accepted")")
        }
        XCTAssertNoThrow(
            try PublishRequest.parse(
                ["topic": "signals", "data": [:], "idempotency_key": .string(String(repeating: "~", count: 200))], caller: "ops",
                now: now))
    }

    func testHistoryRequestsAndTheirCommands() throws {
        let own = try HistoryRequest.parse(["topic": "user", "limit": "5"], sub: "alice", role: .viewer)
        XCTAssertEqual(own.answerTopic, "user")
        XCTAssertEqual(own.command(prefix: "p:"), ["XRANGE", "p:stream:user:alice", "-", "+", "COUNT", "5"])
        let back = try HistoryRequest.parse(
            ["topic": "signals", "since": "17-3", "reverse": true], sub: "alice", role: .viewer)
        XCTAssertEqual(back.command(prefix: "p:"), ["XREVRANGE", "p:stream:signals", "(17-3", "-", "COUNT", "100"])
        let after = try HistoryRequest.parse(["topic": "signals", "since": "17", "limit": 1000], sub: "a", role: .viewer)
        XCTAssertEqual(after.command(prefix: "p:"), ["XRANGE", "p:stream:signals", "(17-0", "+", "COUNT", "1000"])
        let beforeZero = try HistoryRequest.parse(
            ["topic": "signals", "since": "0-0", "reverse": "true"], sub: "a", role: .viewer)
        XCTAssertNil(beforeZero.command(prefix: "p:"), "nothing lies before 0-0")
        XCTAssertEqual(
            try HistoryRequest.parse(["topic": "user:bob"], sub: "ops", role: .admin).streamTopic, "user:bob")
    }

    func testHistoryRefusals() {
        let bad: [(JSONObject, ErrorCode)] = [
            ([:], .badRequest),
            (["topic": "nope"], .badRequest),
            (["topic": "signals", "since": "x-1"], .badRequest),
            (["topic": "signals", "since": "$"], .badRequest),
            (["topic": "signals", "limit": 0], .badRequest),
            (["topic": "signals", "limit": "1001"], .badRequest),
            (["topic": "signals", "limit": 2.5], .badRequest),
            (["topic": "signals", "reverse": "yes please"], .badRequest),
            (["topic": "portfolio"], .forbidden),
            (["topic": "user:bob"], .forbidden),
        ]
        for (params, code) in bad {
            let error = refusal { _ = try HistoryRequest.parse(params, sub: "alice", role: .viewer) }
            XCTAssertEqual(error?.code, code, "\(params)")
        }
    }

    func testPublishScriptAppendsOnceAndRefusesOtherContent() throws {
        let scripts = try ScriptRunner(standalone: [EventMethods.script])
        func publish(_ data: JSONObject, topic: String = "signals", caller: String = "ops") throws -> EventMethods.Outcome {
            let request = try PublishRequest.parse(
                ["topic": .string(topic), "data": .object(data), "idempotency_key": "key 1"], caller: caller, now: now)
            return try EventMethods.publish(request, prefix: "bedrock:", maxLength: 100, scripts: scripts, on: conn)
        }
        guard case .appended(let id) = try publish(["n": 1]) else { return XCTFail("not appended") }
        XCTAssertEqual(try publish(["n": 1]), .duplicate(id))
        XCTAssertEqual(try publish(["n": 2]), .conflict)
        XCTAssertEqual(try publish(["n": 1], topic: "risk"), .conflict)
        XCTAssertEqual(try conn.command(["XLEN", "bedrock:stream:signals"]).checked().integer, 1)
        XCTAssertEqual(try conn.command(["EXISTS", "bedrock:stream:risk"]).checked().integer, 0)
        let ttl = try conn.command(["TTL", "bedrock:idempotency:ops:key 1"]).checked().integer ?? 0
        XCTAssertGreaterThan(ttl, 86_000)
        // Another caller's "key 1" is its own: appended, no conflict.
        guard case .appended(let others) = try publish(["n": 2], caller: "apikey:b-2") else {
            return XCTFail("another caller's key collided")
        }
        XCTAssertNotEqual(others, id)
        // Once the record expires, the key is new again.
        _ = try conn.command(["DEL", "bedrock:idempotency:ops:key 1"]).checked()
        guard case .appended(let second) = try publish(["n": 1]) else { return XCTFail("not appended") }
        XCTAssertNotEqual(second, id)
    }

    func testAnErrorReplyToAnAppendIsUnavailableWithoutItsDetail() {
        let error = refusal { _ = try EventMethods.outcome(of: .error("OOM command not allowed when used memory > 'maxmemory'")) }
        XCTAssertEqual(error?.code, .unavailable)
        XCTAssertFalse(error?.message.contains("OOM") ?? true)
    }

    func testHistoryReadsPagesAndSkipsEntriesThatAreNotObjects() throws {
        var ids: [String] = []
        for i in 0..<4 {
            ids.append(try StreamAppend.append(conn, topic: "news", eventJSON: #"{"n":\#(i)}"#, maxLength: nil))
        }
        _ = try conn.command(["XADD", "bedrock:stream:news", "*", "event", "not json"]).checked()
        let request = try HistoryRequest.parse(["topic": "news", "since": .string(ids[0])], sub: "a", role: .viewer)
        let page = try EventMethods.history(request, prefix: "bedrock:", on: conn)
        XCTAssertEqual(page["topic"], "news")
        XCTAssertEqual(page["events"]?.arrayValue?.compactMap { $0["id"]?.stringValue }, Array(ids[1...]))
        XCTAssertEqual(page["events"]?.arrayValue?.last?["data"]?["n"], 3)
        XCTAssertEqual(page["next"], .null, "fewer entries than the limit: the end")
        // A full page of entries that are not objects: no events, but `next` says where to go on.
        let skipped = try HistoryRequest.parse(
            ["topic": "news", "since": .string(ids[3]), "limit": 1], sub: "a", role: .viewer)
        let empty = try EventMethods.history(skipped, prefix: "bedrock:", on: conn)
        XCTAssertEqual(empty["events"]?.arrayValue?.count, 0)
        guard let next = empty["next"]?.stringValue else { return XCTFail("no next: \(empty)") }
        let after = try HistoryRequest.parse(["topic": "news", "since": .string(next), "limit": 1], sub: "a", role: .viewer)
        let end = try EventMethods.history(after, prefix: "bedrock:", on: conn)
        XCTAssertEqual(end["events"]?.arrayValue?.count, 0)
        XCTAssertEqual(end["next"], .null)
    }

    func testPipelineAnswersEveryPublishOnceAndAppendsEachKeyOnce() throws {
        let pipeline = PublishPipeline(
            address: redis.address, prefix: "bedrock:", maxLength: 10_000,
            scripts: try ScriptRunner(standalone: [EventMethods.script]),
            counters: PublishCounters(registry: MetricsRegistry()), timeout: 5)
        defer { pipeline.stop() }
        let answers = Mutex<[Int: Result<JSONValue, APIError>]>([:])
        let done = DispatchGroup()
        // 0..<100 without a key (7 with a bad topic); 100..<200 over 50 keys, each sent twice.
        DispatchQueue.concurrentPerform(iterations: 200) { i in
            done.enter()
            var params: JSONObject = ["topic": i == 7 ? "nope" : "signals", "data": ["n": .int(Int64(i % 50))]]
            if i >= 100 { params["idempotency_key"] = .string("k-\(i % 50)") }
            pipeline.enqueue(MethodCall(subject: "ops", role: .admin, params: params)) { result in
                answers.withLock { $0[i] = result }
                done.leave()
            }
        }
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        let all = answers.withLock { $0 }
        XCTAssertEqual(all.count, 200, "every call answered once")
        guard case .failure(let refused)? = all[7] else { return XCTFail("a bad topic was accepted") }
        XCTAssertEqual(refused.code, .badRequest)
        var firstIDs: [String: String] = [:]
        var duplicates = 0
        for i in 100..<200 {
            guard case .success(let answer)? = all[i], let id = answer["id"]?.stringValue else {
                return XCTFail("publish \(i) failed: \(String(describing: all[i]))")
            }
            if answer["duplicate"] == true { duplicates += 1 }
            if let known = firstIDs["k-\(i % 50)"] { XCTAssertEqual(known, id) } else { firstIDs["k-\(i % 50)"] = id }
        }
        XCTAssertEqual(duplicates, 50)
        XCTAssertEqual(try conn.command(["XLEN", "bedrock:stream:signals"]).checked().integer, 149)
    }

    func testAFullPipelineQueueRefusesAtOnceAndDropsExpiredCallsInOnePass() throws {
        let clock = ManualClock(monotonic: 100)
        let pipeline = PublishPipeline(
            address: redis.address, prefix: "bedrock:", maxLength: 10_000,
            scripts: try ScriptRunner(standalone: [EventMethods.script]),
            counters: PublishCounters(registry: MetricsRegistry()), timeout: 10, clock: clock)
        defer { pipeline.stop() }
        // Redis answers nobody else for 3 s: the pipeline's thread waits on its first batch.
        _ = try conn.command(["CLIENT", "PAUSE", "3000", "ALL"]).checked()
        defer { _ = try? conn.command(["CLIENT", "UNPAUSE"]) }
        let refusedAtOnce = Mutex<[String]>([])
        let answered = DispatchGroup()
        /// True when the call was queued (not refused before `enqueue` returned).
        func publish(_ n: Int) -> Bool {
            let before = refusedAtOnce.withLock { $0.count }
            answered.enter()
            pipeline.enqueue(MethodCall(subject: "ops", role: .admin, params: ["topic": "news", "data": ["n": .int(Int64(n))]])) {
                result in
                if case .failure(let error) = result, error.message.contains("too many") {
                    refusedAtOnce.withLock { $0.append(error.message) }
                }
                answered.leave()
            }
            return refusedAtOnce.withLock { $0.count } == before
        }
        let total = PublishPipeline.maxQueued + PublishPipeline.maxBatch + 100
        let accepted = (0..<total).filter(publish).count
        XCTAssertGreaterThanOrEqual(total - accepted, 99, "refused once the queue is full")
        XCTAssertLessThanOrEqual(accepted, PublishPipeline.maxQueued + PublishPipeline.maxBatch)
        // Past their deadline, the waiting calls are dropped (answered UNAVAILABLE) to make room.
        clock.advance(11)
        XCTAssertTrue(publish(total), "queued once the expired calls were dropped")
        // Filled again 5 s later: 6 s on, only the call queued first is past its deadline.
        clock.advance(5)
        var next = total + 1
        while next < 3 * total, publish(next) { next += 1 }
        clock.advance(6)
        XCTAssertTrue(publish(next + 1), "queued in the place of the one expired call")
        XCTAssertFalse(publish(next + 2), "the calls still in time are kept")
        _ = try conn.command(["CLIENT", "UNPAUSE"]).checked()
        XCTAssertEqual(answered.wait(timeout: .now() + 15), .success, "every call answered")
    }
}
