import Foundation
import RedisClient
import XCTest

@testable import Bedrock

/// The Redis breaker: down on a suspicion or a failed probe, up again as soon as a PING is
/// answered (a real redis-server, frozen with SIGSTOP to hang it).
final class RedisHealthTests: RedisTestCase {
    private func within(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    func testASuspicionLastsOnlyUntilAPingIsAnswered() {
        let health = RedisHealth(address: redis.address, timeout: 0.3, upInterval: 10)
        health.start()
        defer { health.stop() }
        health.suspect()
        XCTAssertFalse(health.isAnswering, "refused at once")
        XCTAssertTrue(within(1) { health.isAnswering }, "a PING answered closes the breaker again")
    }

    func testAHungRedisIsNoticedWithNoTrafficAndForgottenOnceItAnswers() {
        let health = RedisHealth(address: redis.address, timeout: 0.3, upInterval: 0.1)
        health.start()
        defer { health.stop() }
        redis.pause()
        defer { redis.resume() }
        XCTAssertTrue(within(1.5) { !health.isAnswering }, "a PING not answered within the timeout")
        redis.resume()
        XCTAssertTrue(within(1.5) { health.isAnswering })
    }
}
