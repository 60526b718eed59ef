import GatewayCore
import XCTest

@testable import LLMCore

final class OutagePolicyTests: XCTestCase {
    let clock = ManualClock(monotonic: 100, wall: 1_800_000_000)

    func testOneAlertPerOutageUntilASuccess() {
        var policy = OutagePolicy(quietPeriod: 0)
        XCTAssertNil(policy.succeeded(.sentiment, at: clock.read()))
        XCTAssertEqual(
            policy.failed(.sentiment, .timeout, at: clock.read()),
            .unavailable(task: .sentiment, outcome: .timeout, consecutiveFailures: 1))
        for outcome in [LLMOutcome.serverError, .connectionError, .invalidAnswer, .timeout] {
            XCTAssertNil(policy.failed(.explanation, outcome, at: clock.read()), "\(outcome)")
        }
        XCTAssertTrue(policy.inOutage)
        XCTAssertEqual(policy.consecutiveFailures, 5)
        XCTAssertEqual(policy.succeeded(.journal, at: clock.read()), .recovered)
        XCTAssertNil(policy.succeeded(.journal, at: clock.read()))
        XCTAssertEqual(
            policy.failed(.review, .serverError, at: clock.read()),
            .unavailable(task: .review, outcome: .serverError, consecutiveFailures: 1))
    }

    /// A model that fails now and then, or fails one task while answering another, is one
    /// outage: a success ends it only once the last failure is `quietPeriod` old.
    func testAFlappingModelIsOneOutageUntilItHasBeenQuiet() {
        var policy = OutagePolicy(quietPeriod: 600)
        XCTAssertNotNil(policy.failed(.sentiment, .invalidAnswer, at: clock.read()))
        for _ in 0..<10 {
            clock.advance(120)
            XCTAssertNil(policy.succeeded(.explanation, at: clock.read()), "explanations answer")
            clock.advance(120)
            XCTAssertNil(policy.failed(.sentiment, .invalidAnswer, at: clock.read()), "still the same outage")
        }
        XCTAssertTrue(policy.inOutage)
        clock.advance(599)
        XCTAssertNil(policy.succeeded(.explanation, at: clock.read()))
        clock.advance(1)
        XCTAssertEqual(policy.succeeded(.explanation, at: clock.read()), .recovered, "quiet for 600 s")
        XCTAssertNotNil(policy.failed(.sentiment, .timeout, at: clock.read()), "a new outage, a new alert")
    }

    func testAlertAfterSeveralFailuresInARow() {
        var policy = OutagePolicy(alertAfter: 3)
        XCTAssertNil(policy.failed(.sentiment, .timeout, at: clock.read()))
        XCTAssertNil(policy.failed(.sentiment, .timeout, at: clock.read()))
        XCTAssertNil(policy.succeeded(.sentiment, at: clock.read()))  // resets the run
        XCTAssertNil(policy.failed(.sentiment, .timeout, at: clock.read()))
        XCTAssertNil(policy.failed(.sentiment, .timeout, at: clock.read()))
        XCTAssertEqual(
            policy.failed(.sentiment, .timeout, at: clock.read()),
            .unavailable(task: .sentiment, outcome: .timeout, consecutiveFailures: 3))
        XCTAssertNil(policy.failed(.sentiment, .timeout, at: clock.read()))
    }

    func testRetryAfterForbidsCallsUntilItPasses() {
        var policy = OutagePolicy()
        XCTAssertTrue(policy.mayCall(at: clock.read()))
        _ = policy.failed(.sentiment, .rateLimited, retryAfter: 30, at: clock.read())
        XCTAssertFalse(policy.mayCall(at: clock.read()))
        clock.advance(29)
        XCTAssertFalse(policy.mayCall(at: clock.read()))
        // A shorter Retry-After from a call already in flight does not shorten the wait.
        _ = policy.failed(.explanation, .rateLimited, retryAfter: 1, at: clock.read())
        XCTAssertFalse(policy.mayCall(at: clock.read()))
        clock.advance(1)
        XCTAssertTrue(policy.mayCall(at: clock.read()))
        // A wall-clock step changes nothing: the wait runs on the monotonic clock.
        _ = policy.failed(.sentiment, .rateLimited, retryAfter: 10, at: clock.read())
        clock.stepWall(by: 3600)
        XCTAssertFalse(policy.mayCall(at: clock.read()))
    }

    func testDeferredCallsDoNotStartAnOutage() {
        var policy = OutagePolicy()
        XCTAssertNil(policy.failed(.explanation, .deferred, at: clock.read()))
        XCTAssertFalse(policy.inOutage)
        XCTAssertEqual(policy.consecutiveFailures, 0)
        XCTAssertEqual(LLMOutcome.connectionError.rawValue, "connection_error")
        XCTAssertEqual(OutageEvent.alertCode, "LLM_UNAVAILABLE")
    }
}
