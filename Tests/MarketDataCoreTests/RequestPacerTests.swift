import GatewayCore
import MarketDataCore
import XCTest

/// REST pacing on a clock the test moves: under 80 % of the weight limit, following the weight
/// the exchange reports, and nothing sent before a `Retry-After` ends.
final class RequestPacerTests: XCTestCase {
    private let clock = ManualClock(monotonic: 1000)
    private var now: Double { clock.read().monotonic }

    /// Sends as many klines requests as the pacer allows at the current time.
    private func sendAll(_ pacer: inout RequestPacer, weight: Int) -> (sent: Int, next: RequestPacer.Decision) {
        var sent = 0
        while true {
            let d = pacer.request(weight: weight, now: now)
            guard d == .sendNow else { return (sent, d) }
            sent += 1
        }
    }

    func testBinanceStaysUnderEightyPercentOfItsMinuteWeight() {
        var pacer = RequestPacer(policy: .binance)
        XCTAssertEqual(pacer.policy.budget, 4800)
        let (sent, next) = sendAll(&pacer, weight: BinanceKlines.requestWeight)
        XCTAssertEqual(sent, 2400, "4800 weight of 2-weight klines calls")
        XCTAssertEqual(next, .waitUntil(1060))
        clock.advance(59.9)
        XCTAssertEqual(pacer.request(weight: 2, now: now), .waitUntil(1060))
        clock.advance(0.1)
        XCTAssertEqual(pacer.request(weight: 2, now: now), .sendNow)
    }

    func testTheReportedUsedWeightIsFollowed() {
        var pacer = RequestPacer(policy: .binance)
        XCTAssertEqual(pacer.request(weight: 2, now: now), .sendNow)
        XCTAssertEqual(pacer.request(weight: 2, now: now), .sendNow)
        // Another process on the same IP used most of the minute: the header says so.
        XCTAssertEqual(pacer.record(.init(weight: 2, status: 200, usedWeight: 4795), now: now), .ok)
        XCTAssertEqual(pacer.used, 4797, "the reported weight plus the request still in flight")
        XCTAssertEqual(pacer.request(weight: 2, now: now), .sendNow)
        XCTAssertEqual(pacer.request(weight: 2, now: now), .waitUntil(1060))
    }

    func testAnOlderLowerReportRecordedLastDoesNotLowerTheCount() {
        // Three threads share the pacer; X and Y reach the exchange in that order, but Y's answer
        // is recorded first (the exchange counted 6 when Y arrived, 4 when X did).
        var pacer = RequestPacer(policy: .init(limit: 100, window: 60, usedWeightHeader: "X-MBX-USED-WEIGHT-1M"))
        XCTAssertEqual(pacer.request(weight: 2, now: now), .sendNow)
        XCTAssertEqual(pacer.record(.init(weight: 2, status: 200, usedWeight: 2), now: now), .ok)
        XCTAssertEqual(pacer.request(weight: 2, now: now), .sendNow)  // X
        XCTAssertEqual(pacer.request(weight: 2, now: now), .sendNow)  // Y
        XCTAssertEqual(pacer.record(.init(weight: 2, status: 200, usedWeight: 6), now: now), .ok)
        XCTAssertEqual(pacer.record(.init(weight: 2, status: 200, usedWeight: 4), now: now), .ok)
        // Never below the 6 the exchange counted (X, still in flight when Y's answer came, stays
        // counted twice until the window ends: the safe side).
        XCTAssertEqual(pacer.used, 8)
        let (sent, _) = sendAll(&pacer, weight: 2)
        XCTAssertEqual(sent, 36, "78 at the exchange in this window, not 82")
    }

    func testA429WaitsRetryAfterWithNothingSentBeforeIt() {
        var pacer = RequestPacer(policy: .binance)
        XCTAssertEqual(pacer.request(weight: 2, now: now), .sendNow)
        XCTAssertEqual(pacer.record(.init(weight: 2, status: 429, retryAfter: 7), now: now), .rateLimited(until: 1007))
        for _ in 0..<70 {
            XCTAssertEqual(pacer.request(weight: 2, now: now), .waitUntil(1007))
            clock.advance(0.1)
        }
        XCTAssertEqual(now, 1007, accuracy: 1e-9)
        XCTAssertEqual(pacer.request(weight: 2, now: now), .sendNow)
    }

    func testA418IsABan() {
        var pacer = RequestPacer(policy: .binance)
        XCTAssertEqual(pacer.request(weight: 2, now: now), .sendNow)
        XCTAssertEqual(pacer.record(.init(weight: 2, status: 418, retryAfter: 120), now: now), .banned(until: 1120))
        clock.advance(119)
        XCTAssertEqual(pacer.request(weight: 2, now: now), .waitUntil(1120))
        clock.advance(1)
        XCTAssertEqual(pacer.request(weight: 2, now: now), .sendNow)
    }

    func testBybitAccessTooFrequentIsABanOfTenMinutesWithoutRetryAfter() {
        var pacer = RequestPacer(policy: .bybit)
        XCTAssertEqual(pacer.request(weight: 1, now: now), .sendNow)
        XCTAssertEqual(pacer.record(.init(weight: 1, status: 403), now: now), .banned(until: 1600))
        XCTAssertEqual(pacer.request(weight: 1, now: now + 599), .waitUntil(1600))
        XCTAssertEqual(pacer.request(weight: 1, now: now + 600), .sendNow)
        var binance = RequestPacer(policy: .binance)
        _ = binance.request(weight: 2, now: now)
        XCTAssertEqual(binance.record(.init(weight: 2, status: 403), now: now), .ok, "a 403 is no ban on Binance")
    }

    func testWithoutRetryAfterTheDefaultWaitApplies() {
        var pacer = RequestPacer(policy: .binance)
        _ = pacer.request(weight: 2, now: now)
        XCTAssertEqual(pacer.record(.init(weight: 2, status: 429), now: now), .rateLimited(until: 1060))
    }

    func testBybitRateLimitCodeBacksOffDoublingUntilASuccess() {
        var pacer = RequestPacer(policy: .bybit)
        XCTAssertEqual(pacer.policy.budget, 480)
        var waits: [Double] = []
        for _ in 0..<8 {
            XCTAssertEqual(pacer.request(weight: 1, now: now), .sendNow)
            guard case .backingOff(let until) = pacer.record(.init(weight: 1, status: 200, rateLimitCode: true), now: now) else {
                return XCTFail("no back-off")
            }
            waits.append(until - now)
            XCTAssertEqual(pacer.request(weight: 1, now: now), .waitUntil(until))
            clock.advance(until - now)
        }
        XCTAssertEqual(waits, [1, 2, 4, 8, 16, 32, 60, 60])
        XCTAssertEqual(pacer.request(weight: 1, now: now), .sendNow)
        XCTAssertEqual(pacer.record(.init(weight: 1, status: 200), now: now), .ok)
        XCTAssertEqual(pacer.request(weight: 1, now: now), .sendNow)
        XCTAssertEqual(pacer.record(.init(weight: 1, status: 200, rateLimitCode: true), now: now), .backingOff(until: now + 1))
    }

    func testBybitPerWindowBudget() {
        var pacer = RequestPacer(policy: .bybit)
        let (sent, next) = sendAll(&pacer, weight: 1)
        XCTAssertEqual(sent, 480)
        XCTAssertEqual(next, .waitUntil(1005))
    }

    func testRetryAfterHeaderParsing() {
        XCTAssertEqual(RequestPacer.retryAfterSeconds("120"), 120)
        XCTAssertEqual(RequestPacer.retryAfterSeconds(" 7 "), 7)
        XCTAssertNil(RequestPacer.retryAfterSeconds("Wed, 21 Oct 2015 07:28:00 GMT"))
        XCTAssertNil(RequestPacer.retryAfterSeconds("-3"))
        XCTAssertNil(RequestPacer.retryAfterSeconds(""))
        XCTAssertEqual(RequestPacer.usedWeight("4795"), 4795)
        XCTAssertNil(RequestPacer.usedWeight("4.5"))
        XCTAssertEqual(RequestPacer.Policy.binance.usedWeightHeader, "X-MBX-USED-WEIGHT-1M")
        XCTAssertNil(RequestPacer.Policy.bybit.usedWeightHeader)
    }
}
