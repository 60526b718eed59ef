import MarketDataCore
import TradingCore
import XCTest

@testable import Bedrock

/// The in-process sample exchange: the series of `bedrock sample-data`, on a compressed clock,
/// continuing where the stream left off.
final class SampleExchangeTests: XCTestCase {
    private let hour: Int64 = 3_600_000
    private let btc = MarketSymbol("BTC/USDT")!

    private func sample(window: Int = 64) -> SampleExchange {
        SampleExchange(symbol: btc, interval: .oneHour, barSeconds: 2, windowBars: window)
    }

    func testHistoryIsTheSampleDataSeries() {
        let series = SyntheticMarket.generate(.btcusdt, bars: 300, seed: 1)
        var s = sample()
        s.open(lastOpenTime: nil, backfillBars: 300, monotonic: 100)
        // Exactly 300 bars have closed: the 301st is forming.
        XCTAssertEqual(s.wallMillis(monotonic: 100), series.time[0] + 300 * hour)
        let page = s.history(startTime: series.time[0], endTime: series.time[0] + 1_000 * hour, limit: 1000, monotonic: 100)
        XCTAssertEqual(page.count, 64, "at most the window")
        XCTAssertEqual(page.first?.openTime, series.time[236])
        XCTAssertEqual(page.last?.bar, series[299])
        // An older page generates the series again from its start: the same bars.
        let early = s.history(startTime: series.time[10], endTime: series.time[12], limit: 1000, monotonic: 100)
        XCTAssertEqual(early.map(\.bar), (10...12).map { series[$0] })
        XCTAssertTrue(early.allSatisfy { BarQuality.rejection(of: $0) == nil && $0.closed })
    }

    func testOneBarClosesEveryBarSecondsAndARestartContinuesWithoutAHole() {
        let series = SyntheticMarket.generate(.btcusdt, bars: 30, seed: 1)
        var s = sample()
        s.open(lastOpenTime: nil, backfillBars: 20, monotonic: 0)
        XCTAssertEqual(s.liveBars(monotonic: 0), [])
        XCTAssertEqual(s.nextCloseAt(), 2, accuracy: 1e-9)
        XCTAssertEqual(s.liveBars(monotonic: 1.9), [])
        XCTAssertEqual(s.liveBars(monotonic: 2).map(\.bar), [series[20]])
        XCTAssertEqual(s.liveBars(monotonic: 6.5).map(\.bar), [series[21], series[22]])
        XCTAssertEqual(s.nextCloseAt(), 8, accuracy: 1e-9)
        // A new gateway finds bar 22 last in the stream: bar 23 is forming, none is skipped.
        var next = sample()
        next.open(lastOpenTime: series.time[22], backfillBars: 20, monotonic: 500)
        XCTAssertEqual(next.history(startTime: series.time[23], endTime: series.time[29], limit: 10, monotonic: 500), [])
        XCTAssertEqual(next.liveBars(monotonic: 502).map(\.bar), [series[23]])
    }

    func testOtherMarketsAreDeterministicToo() {
        var a = SampleExchange(symbol: MarketSymbol("SOL-USDT")!, interval: .fifteenMinutes, barSeconds: 1, windowBars: 32)
        var b = SampleExchange(symbol: MarketSymbol("SOLUSDT")!, interval: .fifteenMinutes, barSeconds: 1, windowBars: 32)
        a.open(lastOpenTime: nil, backfillBars: 10, monotonic: 0)
        b.open(lastOpenTime: nil, backfillBars: 10, monotonic: 0)
        let pa = a.history(startTime: 0, endTime: .max, limit: 10, monotonic: 0)
        XCTAssertEqual(pa.count, 10)
        XCTAssertEqual(pa, b.history(startTime: 0, endTime: .max, limit: 10, monotonic: 0))
        XCTAssertTrue(pa.allSatisfy { KlineInterval.fifteenMinutes.isOnGrid($0.openTime) })
    }
}
