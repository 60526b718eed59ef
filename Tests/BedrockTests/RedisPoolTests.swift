import Foundation
import RedisClient
import XCTest

@testable import Bedrock

/// The pooled connections of the API workers: opened up front, never more than the peak.
final class RedisPoolTests: RedisTestCase {
    /// Connections the server sees, the test's own included.
    private func clientCount() throws -> Int {
        let list = try XCTUnwrap(try conn.command(["CLIENT", "LIST"]).string)
        return list.split(separator: "\n").count
    }

    func testPrewarmedPoolNeverOpensMoreThanItsPeak() throws {
        let pool = RedisPool(address: redis.address)
        pool.prewarm(4)
        XCTAssertEqual(pool.idleCount, 4)
        XCTAssertEqual(try clientCount(), 1 + 4, "the test's own connection plus the four pooled ones")

        // Callers in parallel (fewer at once than the pool holds), many times over: each finds
        // an idle connection, so nothing new is opened.
        for _ in 0..<20 {
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                _ = try? pool.with { try $0.command(["PING"]) }
            }
        }
        XCTAssertEqual(pool.idleCount, 4)
        XCTAssertEqual(try clientCount(), 1 + 4)
        pool.prewarm(4)
        XCTAssertEqual(try clientCount(), 1 + 4, "a second prewarm opens nothing when the pool is full")
    }

    func testATimeoutDropsOnlyItsConnectionALostOneItsSiblingsToo() throws {
        let pool = RedisPool(address: redis.address)
        pool.prewarm(3)
        XCTAssertThrowsError(
            try RedisDeadline.bounded(by: .now + .milliseconds(200)) {
                try pool.with { try $0.command(["BLPOP", "nothing", "2"]) }
            })
        XCTAssertEqual(pool.idleCount, 2, "a slow reply says nothing about the other connections")
        XCTAssertThrowsError(
            try pool.with { c in
                let id = try XCTUnwrap(try c.command(["CLIENT", "ID"]).integer)
                _ = try conn.command(["CLIENT", "KILL", "ID", String(id)]).checked()
                return try c.command(["PING"])
            })
        XCTAssertEqual(pool.idleCount, 0, "a lost connection drops its idle siblings on the same server")
    }

    func testPrewarmAgainstADeadServerOpensNothingAndDoesNotThrow() {
        let pool = RedisPool(address: RedisAddress(host: "127.0.0.1", port: 1))
        pool.prewarm(3)
        XCTAssertEqual(pool.idleCount, 0)
    }
}
