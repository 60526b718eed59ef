import GatewayCore
import Synchronization
import XCTest

final class CircuitBreakerTests: XCTestCase {
    func testOpensAfterTheThresholdOfFailuresInARowAndRefusesDuringTheCooldown() {
        var breaker = CircuitBreaker(failureThreshold: 3, cooldown: 30)
        for second in 0..<2 {
            XCTAssertEqual(breaker.decide(at: Double(second)), .go(.call))
            XCTAssertNil(breaker.failed(.call, at: Double(second)))
            XCTAssertEqual(breaker.state(at: Double(second)), .closed)
        }
        XCTAssertEqual(breaker.decide(at: 2), .go(.call))
        XCTAssertEqual(breaker.failed(.call, at: 2), .opened(consecutiveFailures: 3))
        XCTAssertEqual(breaker.state(at: 2), .open)
        XCTAssertEqual(breaker.decide(at: 2), .refuse(retryIn: 30))
        XCTAssertEqual(breaker.decide(at: 31.5), .refuse(retryIn: 0.5))
        XCTAssertEqual(breaker.state(at: 31.9), .open)
    }

    func testASuccessBetweenFailuresStartsTheCountAgain() {
        var breaker = CircuitBreaker(failureThreshold: 2, cooldown: 30)
        XCTAssertNil(breaker.failed(.call, at: 0))
        XCTAssertNil(breaker.succeeded(.call))
        XCTAssertNil(breaker.failed(.call, at: 1))
        XCTAssertEqual(breaker.state(at: 1), .closed)
        XCTAssertEqual(breaker.failed(.call, at: 2), .opened(consecutiveFailures: 2))
    }

    func testAfterTheCooldownExactlyOneProbeGoesAndItsSuccessCloses() {
        var breaker = opened(at: 0, threshold: 1, cooldown: 10)
        XCTAssertEqual(breaker.state(at: 10), .halfOpen, "the cool-down is over: waiting for a probe")
        XCTAssertEqual(breaker.decide(at: 10), .go(.probe))
        XCTAssertEqual(breaker.decide(at: 10.1), .refuse(retryIn: nil), "a second caller while the probe runs")
        XCTAssertEqual(breaker.decide(at: 25), .refuse(retryIn: nil))
        XCTAssertEqual(breaker.state(at: 25), .halfOpen)
        XCTAssertEqual(breaker.succeeded(.probe), .closed)
        XCTAssertEqual(breaker.state(at: 25), .closed)
        XCTAssertEqual(breaker.decide(at: 25), .go(.call))
        XCTAssertEqual(breaker.consecutiveFailures, 0)
    }

    func testAFailedProbeOpensForAnotherCooldown() {
        var breaker = opened(at: 0, threshold: 2, cooldown: 10)
        XCTAssertEqual(breaker.decide(at: 12), .go(.probe))
        XCTAssertEqual(breaker.failed(.probe, at: 13), .opened(consecutiveFailures: 3))
        XCTAssertEqual(breaker.state(at: 13), .open)
        XCTAssertEqual(breaker.decide(at: 22.5), .refuse(retryIn: 0.5))
        XCTAssertEqual(breaker.decide(at: 23), .go(.probe))
    }

    func testResultsOfCallsThatAreNotTheProbeChangeNothingOnceOpen() {
        var breaker = opened(at: 0, threshold: 1, cooldown: 10)
        // Calls let through before the circuit opened come back late.
        XCTAssertNil(breaker.succeeded(.call))
        XCTAssertNil(breaker.failed(.call, at: 5))
        XCTAssertEqual(breaker.decide(at: 9), .refuse(retryIn: 1), "a late failure does not extend the cool-down")
        XCTAssertEqual(breaker.decide(at: 10), .go(.probe))
        XCTAssertNil(breaker.succeeded(.call), "only the probe closes")
        XCTAssertEqual(breaker.state(at: 10), .halfOpen)
        XCTAssertNil(breaker.failed(.call, at: 10), "only the probe reopens")
        XCTAssertEqual(breaker.state(at: 10), .halfOpen)
    }

    func testAnAbandonedProbeLetsTheNextCallerProbe() {
        var breaker = opened(at: 0, threshold: 1, cooldown: 10)
        XCTAssertEqual(breaker.decide(at: 10), .go(.probe))
        breaker.abandoned(.probe, at: 11)
        XCTAssertEqual(breaker.decide(at: 11), .go(.probe))
        breaker.abandoned(.call, at: 11)
        XCTAssertEqual(breaker.decide(at: 11), .refuse(retryIn: nil), "an abandoned ordinary call frees no probe")
    }

    func testGaugeValuesAndNames() {
        XCTAssertEqual(CircuitBreaker.State.allCases.map(\.gaugeValue), [0, 1, 2])
        XCTAssertEqual(CircuitBreaker.State.allCases.map(\.rawValue), ["closed", "half_open", "open"])
    }

    func testTheSharedBreakerFollowsItsClockAndReportsTransitions() {
        let clock = ManualClock(monotonic: 100)
        let seen = Mutex<[CircuitBreaker.Transition]>([])
        let shared = SharedCircuitBreaker(
            dependency: "binance", failureThreshold: 2, cooldown: 5, clock: clock,
            observer: { transition in seen.withLock { $0.append(transition) } })
        for _ in 0..<2 {
            guard case .go(let permit) = shared.decide() else { return XCTFail("closed circuit refused") }
            shared.record(permit, reached: false)
        }
        XCTAssertEqual(shared.state, .open)
        XCTAssertEqual(shared.decide(), .refuse(retryIn: 5))
        clock.advance(5)
        XCTAssertEqual(shared.state, .halfOpen)
        guard case .go(.probe) = shared.decide() else { return XCTFail("no probe after the cool-down") }
        shared.record(.probe, reached: true)
        XCTAssertEqual(shared.state, .closed)
        XCTAssertEqual(seen.withLock { $0 }, [.opened(consecutiveFailures: 2), .closed])
    }

    private func opened(at now: Double, threshold: Int, cooldown: Double) -> CircuitBreaker {
        var breaker = CircuitBreaker(failureThreshold: threshold, cooldown: cooldown)
        for _ in 0..<threshold { _ = breaker.failed(.call, at: now) }
        XCTAssertEqual(breaker.state(at: now), .open)
        return breaker
    }
}
