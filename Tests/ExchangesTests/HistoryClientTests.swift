import Exchanges
import Foundation
import GatewayCore
import MarketDataCore
import Synchronization
import XCTest

/// `HistoryClient` against the fake exchanges of tests/integration/fakes, on test time: the
/// client's clock and the fake's move together (`FakeTimeWaiter`), so limits, `Retry-After` and
/// bans are exercised without sleeping.
final class HistoryClientTests: XCTestCase {
    /// 2026-01-01T00:00:00Z plus 30 s: the 1m bar of 00:00 is forming.
    private let now: Int64 = 1_767_225_630_000
    private let minute: Int64 = 60_000
    private let btc = MarketSymbol("BTC/USDT")!

    private func client(_ fake: FakeExchangeProcess, events: EventLog) -> (HistoryClient, ManualClock) {
        let clock = ManualClock(monotonic: 1000, wall: Double(now) / 1000)
        let pacer = SharedRequestPacer(exchange: fake.exchange)
        let client = HistoryClient(
            exchange: fake.exchange, endpoints: fake.endpoints, pacer: pacer, clock: clock,
            waiter: FakeTimeWaiter(clock: clock, fake: fake), observer: { events.append($0) })
        return (client, clock)
    }

    private func rejections(_ events: EventLog) -> [MarketDataRejectReason] {
        events.events.compactMap {
            if case let .rejected(_, _, _, reason, _) = $0 { return reason }
            return nil
        }
    }

    func testPagesOfHistoryComeOldestFirstAndTheFormingBarIsDropped() throws {
        for exchange in Exchange.allCases {
            let fake = try FakeExchangeProcess(exchange, nowMillis: now)
            let events = EventLog()
            let (history, _) = client(fake, events: events)
            let start = now - now % minute - 1000 * minute
            let full = try history.page(
                symbol: btc, interval: .oneMinute, startTime: start, endTime: start + 999 * minute, limit: 1000)
            XCTAssertEqual(full.count, 1000, "\(exchange)")
            XCTAssertEqual(full.map(\.openTime), (0..<1000).map { start + Int64($0) * minute }, "\(exchange)")
            XCTAssertTrue(full.allSatisfy { $0.closed && $0.symbol == "BTCUSDT" && BarQuality.rejection(of: $0) == nil })

            let recent = try history.page(
                symbol: btc, interval: .oneMinute, startTime: start + 995 * minute, endTime: now, limit: 1000)
            XCTAssertEqual(
                recent.map(\.openTime), (995..<1000).map { start + Int64($0) * minute },
                "\(exchange): the bar of 00:00 is forming at 00:00:30 and is left out")
            XCTAssertEqual(recent.first, full[995])
            XCTAssertEqual(events.events, Array(repeating: .request(exchange: exchange, status: .ok), count: 2))
            XCTAssertEqual(rejections(events), [])
        }
    }

    /// How many bars a page of the ten minutes from `start` holds.
    private func tenClosedMinutes(_ history: HistoryClient, from start: Int64) throws -> Int {
        try history.page(symbol: btc, interval: .oneMinute, startTime: start, endTime: start + 9 * minute, limit: 10).count
    }

    func testA429WaitsItsRetryAfterWithNothingSentBeforeIt() throws {
        let fake = try FakeExchangeProcess(.binance, nowMillis: now)
        let events = EventLog()
        let (history, clock) = client(fake, events: events)
        try fake.control("force_429", ["retry_after_s": "9"])
        let start = now - now % minute - 10 * minute
        let bars = try history.page(symbol: btc, interval: .oneMinute, startTime: start, endTime: start + 9 * minute, limit: 1000)
        XCTAssertEqual(bars.count, 10)
        // The fake bans (418) any request sent before its Retry-After has passed on its clock.
        XCTAssertEqual(
            events.events,
            [
                .request(exchange: .binance, status: .rateLimited), .rateLimited(exchange: .binance, waitSeconds: 9),
                .request(exchange: .binance, status: .ok),
            ])
        XCTAssertEqual(clock.read().monotonic, 1009, accuracy: 0.01)
    }

    func testA418IsReportedAsABanAndWaitedOut() throws {
        let fake = try FakeExchangeProcess(.binance, nowMillis: now)
        let events = EventLog()
        let (history, clock) = client(fake, events: events)
        try fake.control("force_418", ["retry_after_s": "120"])
        let start = now - now % minute - 10 * minute
        XCTAssertEqual(
            try tenClosedMinutes(history, from: start), 10)
        XCTAssertEqual(
            events.events,
            [
                .request(exchange: .binance, status: .banned), .banned(exchange: .binance, waitSeconds: 120),
                .request(exchange: .binance, status: .ok),
            ])
        XCTAssertEqual(clock.read().monotonic, 1120, accuracy: 0.01)
    }

    func testBybitRetCode10006BacksOffDoublingAndItsIPBanIsABan() throws {
        let fake = try FakeExchangeProcess(.bybit, nowMillis: now)
        let events = EventLog()
        let (history, _) = client(fake, events: events)
        try fake.control("force_rate_limit", ["seconds": "3"])
        let start = now - now % minute - 10 * minute
        XCTAssertEqual(
            try tenClosedMinutes(history, from: start), 10)
        XCTAssertEqual(
            events.events.filter { if case .rateLimited = $0 { return true } else { return false } },
            [.rateLimited(exchange: .bybit, waitSeconds: 1), .rateLimited(exchange: .bybit, waitSeconds: 2)])
        XCTAssertEqual(events.events.last, .request(exchange: .bybit, status: .ok))

        try fake.control("force_ip_ban", ["seconds": "700"])
        XCTAssertEqual(
            try tenClosedMinutes(history, from: start), 10)
        XCTAssertTrue(events.events.contains(.banned(exchange: .bybit, waitSeconds: 600)), "403 access too frequent: 10 minutes")
        XCTAssertEqual(events.events.last, .request(exchange: .bybit, status: .ok))
    }

    func testAnUnknownSymbolIsAClearErrorOnBothExchanges() throws {
        for exchange in Exchange.allCases {
            let fake = try FakeExchangeProcess(exchange, nowMillis: now)
            let events = EventLog()
            let (history, _) = client(fake, events: events)
            XCTAssertThrowsError(
                try history.page(symbol: MarketSymbol("NOPE/USDT")!, interval: .oneHour, startTime: 0, endTime: now, limit: 10)
            ) { error in
                guard case .unknownSymbol(exchange, "NOPEUSDT", _) = error as? HistoryError else {
                    return XCTFail("\(exchange): \(error)")
                }
                XCTAssertTrue("\(error)".hasPrefix("\(exchange) does not list the symbol NOPEUSDT"), "\(error)")
            }
            XCTAssertEqual(events.events, [.request(exchange: exchange, status: .refused)])
        }
        let fake = try FakeExchangeProcess(.bybit, nowMillis: now)
        let (history, _) = client(fake, events: EventLog())
        XCTAssertThrowsError(try history.page(symbol: btc, interval: .eightHours, startTime: 0, endTime: now, limit: 10)) {
            XCTAssertEqual(
                $0 as? HistoryError, .unsupportedInterval(UnsupportedInterval(exchange: .bybit, interval: .eightHours)))
        }
    }

    func testInvalidAndMalformedBarsAreRejectedAndCountedTheRestKept() throws {
        for exchange in Exchange.allCases {
            let fake = try FakeExchangeProcess(exchange, nowMillis: now)
            let events = EventLog()
            let (history, _) = client(fake, events: events)
            let start = now - now % minute - 10 * minute
            try fake.control(
                "corrupt_bar",
                [
                    "symbol": "BTCUSDT", "interval": exchange == .binance ? "1m" : "1",
                    "open_time": String(start + 2 * minute), "high": "0.5",
                ])
            try fake.control(
                "corrupt_bar",
                [
                    "symbol": "BTCUSDT", "interval": exchange == .binance ? "1m" : "1",
                    "open_time": String(start + 6 * minute), "close": "NaN",
                ])
            try fake.control("rest_anomaly", ["kind": "duplicate"])
            let bars = try history.page(
                symbol: btc, interval: .oneMinute, startTime: start, endTime: start + 9 * minute, limit: 10)
            XCTAssertEqual(bars.map(\.openTime), [0, 1, 3, 4, 5, 7, 8, 9].map { start + $0 * minute }, "\(exchange)")
            XCTAssertEqual(
                rejections(events).sorted { $0.rawValue < $1.rawValue }, [.duplicate, .highBelowBody, .malformed], "\(exchange)")

            try fake.control("rest_anomaly", ["kind": "reverse"])
            let again = try history.page(
                symbol: btc, interval: .oneMinute, startTime: start, endTime: start + 9 * minute, limit: 10)
            XCTAssertEqual(again, bars, "\(exchange): rows in the wrong order come back oldest first")
        }
    }

    func testThePacerKeepsEveryCallTogetherUnderEightyPercentOfTheWeightLimit() throws {
        // A fake with a limit of 100 weight a minute and a pacer told the same: 40 klines calls
        // (weight 2) a minute at most; three threads share the pacer.
        // The fake's minutes start on the minute, the pacer's window at its first call: start both
        // there.
        let onTheMinute = now - now % minute
        let fake = try FakeExchangeProcess(.binance, nowMillis: onTheMinute, arguments: ["--weight-limit", "100"])
        let events = EventLog()
        let clock = ManualClock(monotonic: 1000, wall: Double(onTheMinute) / 1000)
        let history = HistoryClient(
            exchange: .binance, endpoints: fake.endpoints,
            pacer: SharedRequestPacer(policy: .init(limit: 100, window: 60, usedWeightHeader: "X-MBX-USED-WEIGHT-1M")),
            clock: clock, waiter: FakeTimeWaiter(clock: clock, fake: fake), observer: { events.append($0) })
        let start = onTheMinute - 1000 * minute
        let peak = Mutex(0)
        let (btc, minute) = (self.btc, self.minute)
        DispatchQueue.concurrentPerform(iterations: 3) { _ in
            for i in 0..<40 {
                let t = start + Int64(i) * minute
                XCTAssertEqual(try? history.page(symbol: btc, interval: .oneMinute, startTime: t, endTime: t, limit: 1).count, 1)
                let used = (try? fake.control("used_weight"))?.intValue.map(Int.init) ?? -1
                peak.withLock { $0 = max($0, used) }
            }
        }
        XCTAssertEqual(events.events.filter { $0 != .request(exchange: .binance, status: .ok) }, [], "never a 429")
        XCTAssertEqual(events.events.count, 120)
        XCTAssertLessThanOrEqual(peak.withLock { $0 }, 80)
        XCTAssertGreaterThanOrEqual(clock.read().monotonic - 1000, 120, "120 calls at 40 a minute span three windows")
    }

    func testCancelEndsAWaitAtOnce() throws {
        let fake = try FakeExchangeProcess(.binance, nowMillis: now)
        let clock = ManualClock(monotonic: 0, wall: Double(now) / 1000)
        let history = HistoryClient(
            exchange: .binance, endpoints: fake.endpoints, pacer: SharedRequestPacer(exchange: .binance), clock: clock)
        try fake.control("force_429", ["retry_after_s": "60"])
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { history.cancel() }
        let began = Date()
        XCTAssertThrowsError(try history.page(symbol: btc, interval: .oneHour, startTime: 0, endTime: now, limit: 10)) {
            XCTAssertEqual($0 as? HistoryError, .cancelled)
        }
        XCTAssertLessThan(Date().timeIntervalSince(began), 5)
        XCTAssertThrowsError(try history.page(symbol: btc, interval: .oneHour, startTime: 0, endTime: now, limit: 10))
    }

    func testNoAnswerIsRetriedThenATransportErrorWithoutThePath() throws {
        let clock = ManualClock(monotonic: 0, wall: Double(now) / 1000)
        let events = EventLog()
        let history = HistoryClient(
            exchange: .bybit, endpoints: ExchangeEndpoints(restURL: "http://127.0.0.1:9", wsURL: "ws://127.0.0.1:9"),
            pacer: SharedRequestPacer(exchange: .bybit), clock: clock, waiter: FakeTimeWaiter(clock: clock, fake: nil),
            retry: RetryBackoff(maxAttempts: HistoryClient.maxAttempts, baseDelay: 1, maxDelay: 30, jitter: { 1 }),
            observer: { events.append($0) })
        XCTAssertThrowsError(try history.page(symbol: btc, interval: .oneHour, startTime: 0, endTime: now, limit: 10)) { error in
            guard case .transport(.bybit, let message) = error as? HistoryError else { return XCTFail("\(error)") }
            XCTAssertFalse(message.contains("/v5") || message.contains("BTCUSDT"), message)
        }
        XCTAssertEqual(
            events.events, Array(repeating: .request(exchange: .bybit, status: .transportError), count: HistoryClient.maxAttempts)
        )
        XCTAssertEqual(clock.read().monotonic, 1 + 2 + 4 + 8, accuracy: 0.01, "ceilings of 1 s doubling between tries")
    }

    func testRetryWaitsAreJitteredUnderTheDoublingCeiling() throws {
        let clock = ManualClock(monotonic: 0, wall: Double(now) / 1000)
        let history = HistoryClient(
            exchange: .binance, endpoints: ExchangeEndpoints(restURL: "http://127.0.0.1:9", wsURL: "ws://127.0.0.1:9"),
            pacer: SharedRequestPacer(exchange: .binance), clock: clock, waiter: FakeTimeWaiter(clock: clock, fake: nil),
            retry: RetryBackoff(maxAttempts: 4, baseDelay: 1, maxDelay: 3, jitter: { 0.5 }))
        XCTAssertThrowsError(try history.page(symbol: btc, interval: .oneHour, startTime: 0, endTime: now, limit: 10))
        XCTAssertEqual(clock.read().monotonic, 0.5 + 1 + 1.5, accuracy: 0.01, "half of 1, 2 and 3 (capped) s")
    }

    func testAnOpenCircuitSendsNothingUntilItsCooldownThenOneProbe() throws {
        let clock = ManualClock(monotonic: 0, wall: Double(now) / 1000)
        let events = EventLog()
        let circuit = SharedCircuitBreaker(dependency: "binance", failureThreshold: 3, cooldown: 30, clock: clock)
        let history = HistoryClient(
            exchange: .binance, endpoints: ExchangeEndpoints(restURL: "http://127.0.0.1:9", wsURL: "ws://127.0.0.1:9"),
            pacer: SharedRequestPacer(exchange: .binance), clock: clock, waiter: FakeTimeWaiter(clock: clock, fake: nil),
            retry: RetryBackoff(maxAttempts: 5, baseDelay: 1, maxDelay: 30, jitter: { 1 }), circuit: circuit,
            observer: { events.append($0) })
        func page() throws { _ = try history.page(symbol: btc, interval: .oneHour, startTime: 0, endTime: now, limit: 10) }
        XCTAssertThrowsError(try page()) {
            guard case .transport(.binance, _) = $0 as? HistoryError else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(events.events.count, 3, "the third failure opened the circuit: no fourth try, no wait")
        XCTAssertEqual(circuit.state, .open)
        let opened = clock.read().monotonic
        XCTAssertThrowsError(try page()) { XCTAssertEqual($0 as? HistoryError, .circuitOpen(exchange: .binance, retryIn: 30)) }
        clock.advance(29.9)
        XCTAssertThrowsError(try page()) {
            guard case .circuitOpen(.binance, let retryIn?) = $0 as? HistoryError else { return XCTFail("\($0)") }
            XCTAssertEqual(retryIn, 0.1, accuracy: 0.001)
        }
        XCTAssertEqual(events.events.count, 3, "nothing sent during the cool-down")
        XCTAssertEqual(clock.read().monotonic - opened, 29.9, accuracy: 0.001, "a refusal does not wait")
        clock.advance(0.1)
        XCTAssertEqual(circuit.state, .halfOpen)
        XCTAssertThrowsError(try page()) {
            guard case .transport(.binance, _) = $0 as? HistoryError else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(events.events.count, 4, "one probe, which failed: open again, no retry")
        XCTAssertEqual(circuit.state, .open)
    }

    func testARequestWaitingForItsTurnIsNotSentOnceTheCircuitOpened() throws {
        let clock = ManualClock(monotonic: 0, wall: Double(now) / 1000)
        let events = EventLog()
        let circuit = SharedCircuitBreaker(dependency: "binance", failureThreshold: 1, cooldown: 30, clock: clock)
        let pacer = SharedRequestPacer(exchange: .binance)
        _ = pacer.record(.init(weight: 2, status: 429, retryAfter: 5), now: 0)  // every caller waits 5 s
        let history = HistoryClient(
            exchange: .binance, endpoints: ExchangeEndpoints(restURL: "http://127.0.0.1:9", wsURL: "ws://127.0.0.1:9"),
            pacer: pacer, clock: clock, waiter: CircuitOpeningWaiter(clock: clock, circuit: circuit), circuit: circuit,
            observer: { events.append($0) })
        XCTAssertThrowsError(try history.page(symbol: btc, interval: .oneHour, startTime: 0, endTime: now, limit: 10)) {
            XCTAssertEqual($0 as? HistoryError, .circuitOpen(exchange: .binance, retryIn: nil))
        }
        XCTAssertEqual(events.events, [], "nothing sent")
        XCTAssertEqual(pacer.snapshot.inFlight, 0, "the pacer does not wait for an answer that will never come")
    }

    func testARateLimitIsTheExchangeAnsweringNotAFailureOfItsCircuit() throws {
        let fake = try FakeExchangeProcess(.binance, nowMillis: now)
        defer { fake.stop() }
        let clock = ManualClock(monotonic: 1000, wall: Double(now) / 1000)
        let circuit = SharedCircuitBreaker(dependency: "binance", failureThreshold: 1, cooldown: 30, clock: clock)
        let history = HistoryClient(
            exchange: .binance, endpoints: fake.endpoints, pacer: SharedRequestPacer(exchange: .binance), clock: clock,
            waiter: FakeTimeWaiter(clock: clock, fake: fake), circuit: circuit)
        try fake.control("force_429", ["retry_after_s": "3"])
        let bars = try history.page(symbol: btc, interval: .oneMinute, startTime: now - 10 * minute, endTime: now, limit: 5)
        XCTAssertEqual(bars.count, 5)
        XCTAssertEqual(circuit.state, .closed)
        XCTAssertThrowsError(
            try history.page(symbol: MarketSymbol("NOPE/USDT")!, interval: .oneMinute, startTime: 0, endTime: now, limit: 5))
        XCTAssertEqual(circuit.state, .closed, "an unknown symbol is an answer")
    }
}

/// A waiter on test time during whose wait another caller's failure opens `circuit`.
private final class CircuitOpeningWaiter: HistoryWaiter, @unchecked Sendable {
    // Sound: used by the one test thread that calls the client.
    let clock: ManualClock
    let circuit: SharedCircuitBreaker

    init(clock: ManualClock, circuit: SharedCircuitBreaker) {
        self.clock = clock
        self.circuit = circuit
    }

    func wait(until deadline: Double, now: Double) {
        circuit.record(.call, reached: false)
        clock.advance(max(0, deadline - now))
    }

    func cancel() {}
}
