import GatewayCore
import XCTest

/// The notification retry policy driven by a `ManualClock`: no sockets, no sleeping.
final class DeliveryPolicyTests: XCTestCase {
    private func policy(window: Double = 60, jitter: Double = 1) -> DeliveryPolicy {
        DeliveryPolicy(retryWindow: window, baseDelay: 1, maxDelay: 8, jitter: { jitter })
    }

    func testDeliveredIsDoneAtAnyTime() {
        let clock = ManualClock(wall: 1000)
        XCTAssertEqual(policy().decide(.delivered, attempts: 1, firstAttempt: 1000, now: clock.read().wall), .done)
        clock.advance(10_000)
        XCTAssertEqual(policy().decide(.delivered, attempts: 9, firstAttempt: 1000, now: clock.read().wall), .done)
    }

    func testFailuresBackOffExponentiallyUpToTheCap() {
        let clock = ManualClock(wall: 0)
        let p = policy(window: 1000)
        var waits: [Double] = []
        for attempt in 1...7 {
            let now = clock.read().wall
            guard case .retry(let at) = p.decide(.failed(retryAfter: nil), attempts: attempt, firstAttempt: 0, now: now)
            else { return XCTFail("attempt \(attempt) should be retried") }
            waits.append(at - now)
            clock.advance(at - now)
        }
        XCTAssertEqual(waits, [1, 2, 4, 8, 8, 8, 8])
    }

    func testJitterDrawsWithinTheCeiling() {
        let p = policy(window: 1000, jitter: 0.25)
        XCTAssertEqual(p.decide(.failed(retryAfter: nil), attempts: 3, firstAttempt: 0, now: 10), .retry(at: 11))
    }

    func testReceiversRetryAfterWinsWhenLonger() {
        let p = policy(window: 1000)
        XCTAssertEqual(p.decide(.failed(retryAfter: 30), attempts: 1, firstAttempt: 0, now: 0), .retry(at: 30))
        XCTAssertEqual(p.decide(.failed(retryAfter: 0.5), attempts: 2, firstAttempt: 0, now: 0), .retry(at: 2))
    }

    func testLastRetryFallsAtTheEndOfTheWindowThenDead() {
        let clock = ManualClock(wall: 500)
        let p = policy(window: 10)
        var attempts = 0
        var decision = DeliveryPolicy.Decision.done
        repeat {
            attempts += 1
            decision = p.decide(.failed(retryAfter: nil), attempts: attempts, firstAttempt: 500, now: clock.read().wall)
            if case .retry(let at) = decision {
                XCTAssertLessThanOrEqual(at, 510)
                clock.advance(at - clock.read().wall)
            }
        } while decision != .dead && attempts < 100
        XCTAssertEqual(decision, .dead)
        XCTAssertEqual(clock.read().wall, 510, "the final try is made at the window's end")
        XCTAssertEqual(attempts, 5)  // at 500, 501, 503, 507, 510
    }

    func testFailureAfterTheWindowIsDeadEvenOnTheFirstAttempt() {
        XCTAssertEqual(policy(window: 5).decide(.failed(retryAfter: nil), attempts: 1, firstAttempt: 0, now: 5), .dead)
        XCTAssertEqual(policy(window: 0).decide(.failed(retryAfter: nil), attempts: 1, firstAttempt: 7, now: 7), .dead)
    }
}
