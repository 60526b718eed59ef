import GatewayCore
import Synchronization
import XCTest

final class RetryBackoffTests: XCTestCase {
    func testCeilingsDoubleUpToTheMaximumDelay() {
        let backoff = RetryBackoff(maxAttempts: 10, baseDelay: 1, maxDelay: 20)
        XCTAssertEqual((1...7).map { backoff.ceiling(afterFailures: $0) }, [1, 2, 4, 8, 16, 20, 20])
        XCTAssertEqual(backoff.ceiling(afterFailures: 5_000), 20, "no overflow after many failures")
    }

    func testFullJitterDrawsBetweenZeroAndTheCeiling() {
        let draws = Mutex<[Double]>([0, 0.5, 1, 0.25, 7, -3])
        let backoff = RetryBackoff(
            maxAttempts: 10, baseDelay: 2, maxDelay: 60, jitter: { draws.withLock { $0.removeFirst() } })
        // Ceilings 2, 4, 8, 16, 32, 60 with the draws above (out-of-range draws clamped).
        XCTAssertEqual((1...6).map { backoff.delay(afterFailures: $0) }, [0, 2, 8, 4, 32, 0])
    }

    func testNoDelayOnceEveryAttemptIsSpent() {
        let backoff = RetryBackoff(maxAttempts: 3, baseDelay: 1, maxDelay: 60, jitter: { 1 })
        XCTAssertEqual(backoff.delay(afterFailures: 1), 1)
        XCTAssertEqual(backoff.delay(afterFailures: 2), 2)
        XCTAssertNil(backoff.delay(afterFailures: 3), "three tries in all")
        XCTAssertNil(RetryBackoff(maxAttempts: 1, baseDelay: 1, maxDelay: 1).delay(afterFailures: 1))
    }

    func testTheSystemJitterStaysWithinTheCeiling() {
        let backoff = RetryBackoff(maxAttempts: 5, baseDelay: 1, maxDelay: 8)
        let delays = (0..<200).map { _ in backoff.delay(afterFailures: 4)! }
        XCTAssertTrue(delays.allSatisfy { (0...8).contains($0) }, "\(delays.filter { !(0...8).contains($0) })")
        XCTAssertGreaterThan(Set(delays).count, 100, "full jitter spreads the retries")
    }
}
