import GatewayCore
import XCTest

/// The message-rate policy on a clock the test moves: what passes, what is dropped, and when a
/// connection that keeps sending too fast is closed.
final class MessageRateGuardTests: XCTestCase {
    /// Sends `count` messages at `perSecond`, moving `clock` between them; returns the verdicts
    /// up to and including the first `.close`, with the clock's reading at each.
    private func send(
        _ guardian: inout MessageRateGuard, _ clock: ManualClock, perSecond: Double, count: Int
    ) -> [(verdict: MessageRateGuard.Verdict, at: Double)] {
        var out: [(MessageRateGuard.Verdict, Double)] = []
        for _ in 0..<count {
            let now = clock.read().monotonic
            let verdict = guardian.admit(now: now)
            out.append((verdict, now))
            if verdict == .close { break }
            clock.advance(1 / perSecond)
        }
        return out
    }

    func testBurstPassesThenRefusalsAreReportedOncePerRun() {
        let clock = ManualClock(monotonic: 100)
        var guardian = MessageRateGuard(rate: 5, burst: 10, window: 5, now: 100)
        let verdicts = (0..<14).map { _ in guardian.admit(now: 100) }
        XCTAssertEqual(Array(verdicts.prefix(10)), Array(repeating: .pass, count: 10))
        XCTAssertEqual(
            Array(verdicts.suffix(4)),
            [.refuse(first: true), .refuse(first: false), .refuse(first: false), .refuse(first: false)])
        clock.advance(0.2)  // one token back
        XCTAssertEqual(guardian.admit(now: clock.read().monotonic), .pass)
        XCTAssertEqual(guardian.admit(now: clock.read().monotonic), .refuse(first: true))
    }

    func testAFloodAtThirtyFourTimesTheLimitIsClosedOnceItsBurstIsSpent() {
        // The refusals used to be counted only while none passed: a token every 20 ms reset the
        // count, so 34 refusals between two tokens never reached the 50 that closed.
        let clock = ManualClock(monotonic: 0)
        var guardian = MessageRateGuard(rate: 50, burst: 100, window: 5, now: 0)
        let verdicts = send(&guardian, clock, perSecond: 1700, count: 100_000)
        guard let last = verdicts.last, last.verdict == .close else { return XCTFail("never closed") }
        XCTAssertGreaterThan(verdicts.filter { $0.verdict == .pass }.count, 100, "the burst passed first")
        XCTAssertLessThan(last.at, 1, "closed at \(last.at) s")
    }

    func testThreeTimesTheLimitIsClosedAfterAboutTheWindow() {
        let clock = ManualClock(monotonic: 0)
        var guardian = MessageRateGuard(rate: 10, burst: 10, window: 5, now: 0)
        let verdicts = send(&guardian, clock, perSecond: 30, count: 100_000)
        guard let last = verdicts.last, last.verdict == .close else { return XCTFail("never closed") }
        // The burst lasts 0.5 s; then the excess grows by 30 − 10 passed − 10 forgiven = 10 a
        // second and closes past 10 × 5 = 50.
        XCTAssertEqual(last.at, 5.5, accuracy: 0.3)
    }

    func testUpToTwiceTheLimitOnlyLosesMessages() {
        let clock = ManualClock(monotonic: 0)
        var guardian = MessageRateGuard(rate: 10, burst: 10, window: 5, now: 0)
        let verdicts = send(&guardian, clock, perSecond: 19.5, count: 19_500)  // 1,000 s
        XCTAssertFalse(verdicts.contains { $0.verdict == .close })
        XCTAssertGreaterThan(verdicts.filter { $0.verdict != .pass }.count, 4000)
    }

    func testSlowingDownForgivesTheExcessAtTheRateOnly() {
        let clock = ManualClock(monotonic: 0)
        var guardian = MessageRateGuard(rate: 10, burst: 10, window: 5, now: 0)
        for _ in 0..<55 { XCTAssertNotEqual(guardian.admit(now: 0), .close) }  // 45 refused
        XCTAssertEqual(guardian.pendingExcess, 45)
        clock.advance(2)  // 20 forgiven
        XCTAssertEqual(guardian.admit(now: clock.read().monotonic), .pass)
        XCTAssertEqual(guardian.pendingExcess, 25)
        // Another flood now closes sooner than from a clean slate: at the 26th refusal, not the 51st.
        let beforeClose = (0..<100).prefix { _ in guardian.admit(now: clock.read().monotonic) != .close }
        XCTAssertEqual(beforeClose.count, 9 + 25)  // the 9 tokens left in the bucket, then 25 refusals
    }
}
