import Foundation
import RedisClient
import XCTest

@testable import Bedrock

/// Pooled connections under a call's deadline (`RedisDeadline`), against a real redis-server
/// frozen with SIGSTOP: it accepts connections but answers nothing.
final class RedisDeadlineTests: RedisTestCase {
    private func elapsed(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        return RedisDeadline.secondsLeft(until: start) * -1
    }

    func testACommandUnderADeadlineGivesUpThenAndItsConnectionIsDropped() throws {
        let pool = RedisPool(address: redis.address)
        pool.prewarm(1)
        redis.pause()
        defer { redis.resume() }
        var failure: Error?
        let seconds = elapsed {
            do {
                _ = try RedisDeadline.bounded(by: .now + .milliseconds(300)) {
                    try pool.with { try $0.command(["PING"]) }
                }
            } catch { failure = error }
        }
        XCTAssertTrue((failure as? RedisError)?.breaksConnection ?? false, "\(String(describing: failure))")
        XCTAssertGreaterThanOrEqual(seconds, 0.25)
        XCTAssertLessThan(seconds, 0.6, "the 5 s read timeout of the connection did not apply")
        XCTAssertEqual(pool.idleCount, 0, "a connection that ran out of time is not reused")
        redis.resume()
        XCTAssertEqual(try pool.with { try $0.command(["PING"]) }, .status("PONG"))
    }

    func testAPipelineOutOfTimeLeavesNoQueuedCommandForTheNextCaller() throws {
        let pool = RedisPool(address: redis.address)
        pool.prewarm(1)
        XCTAssertThrowsError(
            try RedisDeadline.bounded(by: .now - .seconds(1)) {
                try pool.with { try $0.pipeline([["ECHO", "stale"]]) }
            })
        XCTAssertEqual(pool.idleCount, 0, "a connection holding queued commands is not reused")
        XCTAssertEqual(try pool.with { try $0.pipeline([["ECHO", "fresh"]]) }.first?.string, "fresh")
    }

    func testOpeningAConnectionUnderADeadlineGivesUpThenToo() throws {
        redis = nil
        conn = nil
        redis = try RedisTestServer(password: "pw-0123456789")  // AUTH waits for an answer
        let pool = RedisPool(address: redis.address)
        redis.pause()
        defer { redis.resume() }
        var failure: Error?
        let seconds = elapsed {
            do {
                _ = try RedisDeadline.bounded(by: .now + .milliseconds(300)) {
                    try pool.with { try $0.command(["PING"]) }
                }
            } catch { failure = error }
        }
        XCTAssertNotNil(failure)
        XCTAssertLessThan(seconds, 0.6, "connect and AUTH are bounded by the deadline")
    }

    func testOutsideTheDeadlineTheConnectionWaitsItsOwnTimeoutAgain() throws {
        let pool = RedisPool(address: redis.address)
        XCTAssertEqual(
            try RedisDeadline.bounded(by: .now + .milliseconds(200)) { try pool.with { try $0.command(["PING"]) } },
            .status("PONG"))
        XCTAssertEqual(pool.idleCount, 1)
        // Redis holds every command for 500 ms: longer than the deadline was, shorter than 5 s.
        XCTAssertEqual(try conn.command(["CLIENT", "PAUSE", "500", "ALL"]), .status("OK"))
        XCTAssertEqual(try pool.with { try $0.command(["PING"]) }, .status("PONG"))
    }

    func testNoTimeLeftFailsBeforeSendingAndKeepsTheConnection() throws {
        let pool = RedisPool(address: redis.address)
        pool.prewarm(1)
        XCTAssertThrowsError(
            try RedisDeadline.bounded(by: .now - .milliseconds(1)) { try pool.with { try $0.command(["PING"]) } })
        XCTAssertEqual(pool.idleCount, 1, "nothing was sent: the connection is still good")
    }
}
