import Exchanges
import Foundation
import MarketDataCore
import XCTest

/// How long a closed bar takes from the fake exchange to the hub's handler, over 1,000 bars (a
/// figure printed for the docs, not a timed assertion).
final class KlineStreamLatencyTests: XCTestCase {
    func testCloseToHandlerLatencyOverAThousandBars() throws {
        let fake = try FakeExchangeProcess("binance")
        defer { fake.stop() }
        let log = KlineEventLog()
        let clock = ContinuousMonotonicClock()
        let hub = KlineStreamHub(clock: clock)
        defer { hub.stop() }
        try hub.start([
            KlineSubscription(
                exchange: .binance, endpoints: ExchangeEndpoints(restURL: fake.httpURL, wsURL: fake.wsURL),
                symbol: MarketSymbol("BTCUSDT")!, interval: .oneMinute)
        ]) { log.append($0) }
        log.wait("connected") { $0.contains(where: isConnected) }
        let now = try fake.nowMillis()
        let first = now - now % 60_000 - 2_000 * 60_000
        var endToEnd: [Double] = []
        var controlCall: [Double] = []
        for i in 0..<1_000 {
            let openTime = first + Int64(i) * 60_000
            let sent = clock.read().monotonic
            try fake.control("push_bar", ["symbol": "BTCUSDT", "interval": "1m", "open_time": "\(openTime)"])
            controlCall.append(clock.read().monotonic - sent)
            let deadline = Date().addingTimeInterval(5)
            var received: Double?
            while received == nil && Date() < deadline {
                if case .closedBar(_, let k, let at)? = log.all.last, k.openTime == openTime {
                    received = at
                } else {
                    usleep(100)
                }
            }
            guard let received else { return XCTFail("bar \(i) did not arrive") }
            endToEnd.append(received - sent)
        }
        XCTAssertEqual(log.closedBars().map(\.openTime), (0..<1_000).map { first + Int64($0) * 60_000 })
        func percentile(_ values: [Double], _ p: Double) -> Double {
            let sorted = values.sorted()
            return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000
        }
        print(
            String(
                format:
                    "kline close -> handler over 1000 bars (from just before the fake's control call): p50 %.2f ms, p99 %.2f ms, max %.2f ms; the control call alone: p50 %.2f ms, p99 %.2f ms",
                percentile(endToEnd, 0.5), percentile(endToEnd, 0.99), percentile(endToEnd, 1),
                percentile(controlCall, 0.5), percentile(controlCall, 0.99)))
    }
}
