import GatewayCore
import MarketDataCore
import TradingCore
import XCTest

/// Reconnect back-off with a seeded random source, Binance's 24 h renewal, and the stale-data
/// alert raised once and re-armed.
final class ReconnectAndStalenessTests: XCTestCase {
    /// A random source that always answers the middle of its range (no jitter).
    /// Always the middle of the range (no jitter). It keeps a count so that it has storage: an
    /// `inout` access to an empty struct has no real address, and ThreadSanitizer crashed
    /// recording a write to the one it was given.
    private struct Middle: RandomNumberGenerator {
        var draws = 0
        mutating func next() -> UInt64 {
            draws += 1
            return 1 << 63
        }
    }

    func testBackoffDoublesFromOneSecondToSixty() {
        var backoff = ReconnectBackoff(jitter: 0)
        var random = Middle()
        let clock = ManualClock(monotonic: 0)
        var delays: [Double] = []
        for _ in 0..<9 {
            let at = backoff.nextAttempt(now: clock.read().monotonic, using: &random)
            delays.append(at - clock.read().monotonic)
            clock.advance(at - clock.read().monotonic)
        }
        XCTAssertEqual(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60])
    }

    func testJitterStaysWithinItsBandAndUnderTheCap() {
        var backoff = ReconnectBackoff()
        var random = SplitMix64(seed: 42)
        var delays: [Double] = []
        for _ in 0..<12 { delays.append(backoff.nextAttempt(now: 0, using: &random)) }
        let nominal: [Double] = [1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60]
        for (d, n) in zip(delays, nominal) {
            XCTAssertGreaterThanOrEqual(d, n * 0.8)
            XCTAssertLessThanOrEqual(d, min(60, n * 1.2))
        }
        XCTAssertNotEqual(delays, nominal, "jittered")
        var again = ReconnectBackoff()
        var sameSeed = SplitMix64(seed: 42)
        XCTAssertEqual((0..<12).map { _ in again.nextAttempt(now: 0, using: &sameSeed) }, delays, "deterministic")
    }

    func testAStableConnectionResetsTheDoubling() {
        var backoff = ReconnectBackoff(jitter: 0, stableAfter: 60)
        var random = Middle()
        _ = backoff.nextAttempt(now: 0, using: &random)
        _ = backoff.nextAttempt(now: 1, using: &random)
        XCTAssertEqual(backoff.nextAttempt(now: 3, using: &random), 7, "third drop: 4 s")
        backoff.connected(now: 7)
        XCTAssertEqual(backoff.nextAttempt(now: 30, using: &random), 38, "up 23 s only: 8 s")
        backoff.connected(now: 38)
        XCTAssertEqual(backoff.nextAttempt(now: 98, using: &random), 99, "up 60 s: back to 1 s")
    }

    func testBinanceConnectionsAreRenewedBeforeTheir24HourMark() {
        let renewal = ConnectionRenewal.binance
        XCTAssertEqual(renewal.renewAt(connectedAt: 100), 100 + 86_400 - 600)
        XCTAssertEqual(renewal.decide(connectedAt: 100, now: 5000), .keepUntil(85_900))
        XCTAssertEqual(renewal.decide(connectedAt: 100, now: 85_900), .renewNow)
    }

    func testStaleAlertIsRaisedOnceAndReArmedByTheNextBar() {
        let minute: Int64 = 60_000
        let t0: Int64 = 1_700_000_040_000 - 1_700_000_040_000 % minute
        var watch = StalenessWatch(interval: .oneMinute, staleAfterIntervals: 2, lastOpenTime: t0, nowMillis: t0 + minute)
        // Bar t0+1m closes at t0+2m; two intervals past that is t0+4m.
        XCTAssertEqual(watch.dueAt, t0 + 2 * minute)
        XCTAssertEqual(watch.check(nowMillis: t0 + 4 * minute - 1), .none(nextCheckAt: t0 + 4 * minute))
        XCTAssertFalse(watch.isStale)
        XCTAssertEqual(watch.check(nowMillis: t0 + 4 * minute), .raiseStale(lastOpenTime: t0, dueAt: t0 + 2 * minute))
        XCTAssertTrue(watch.isStale)
        XCTAssertEqual(watch.check(nowMillis: t0 + 10 * minute), .none(nextCheckAt: nil), "raised once")
        XCTAssertTrue(watch.barClosed(openTime: t0 + 9 * minute), "ends the stale period")
        XCTAssertFalse(watch.isStale)
        XCTAssertEqual(watch.check(nowMillis: t0 + 11 * minute), .none(nextCheckAt: t0 + 13 * minute))
        XCTAssertEqual(
            watch.check(nowMillis: t0 + 13 * minute), .raiseStale(lastOpenTime: t0 + 9 * minute, dueAt: t0 + 11 * minute),
            "re-armed")
    }

    func testAnEmptyStreamIsStaleWhenNoBarArrivesAfterStart() {
        let hour: Int64 = 3_600_000
        var watch = StalenessWatch(interval: .oneHour, staleAfterIntervals: 2, lastOpenTime: nil, nowMillis: 0)
        XCTAssertEqual(watch.check(nowMillis: 3 * hour - 1), .none(nextCheckAt: 3 * hour))
        XCTAssertEqual(watch.check(nowMillis: 3 * hour), .raiseStale(lastOpenTime: nil, dueAt: hour))
    }
}
