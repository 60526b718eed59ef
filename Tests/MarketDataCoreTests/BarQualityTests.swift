import MarketDataCore
import XCTest

/// The bar-quality rule: each broken bar is rejected with the reason the metric counts.
final class BarQualityTests: XCTestCase {
    private func kline(
        _ open: Double = 100, _ high: Double = 110, _ low: Double = 90, _ close: Double = 105, volume: Double = 3,
        interval: KlineInterval = .oneHour, at time: Int64 = 1_670_608_800_000
    ) -> ExchangeKline {
        ExchangeKline(
            symbol: "BTCUSDT", interval: interval, openTime: time, open: open, high: high, low: low, close: close,
            volume: volume, closed: true)
    }

    func testAGoodBarPasses() {
        XCTAssertNil(BarQuality.rejection(of: kline()))
        XCTAssertNil(BarQuality.rejection(of: kline(100, 100, 100, 100, volume: 0)))
        XCTAssertNil(BarQuality.rejection(of: kline(interval: .oneMonth, at: 1_704_067_200_000)))
    }

    func testEachBrokenRuleHasItsReason() {
        XCTAssertEqual(BarQuality.rejection(of: kline(100, 104, 90, 105)), .highBelowBody)
        XCTAssertEqual(BarQuality.rejection(of: kline(100, 99, 90, 95)), .highBelowBody)
        XCTAssertEqual(BarQuality.rejection(of: kline(100, 110, 101, 105)), .lowAboveBody)
        XCTAssertEqual(BarQuality.rejection(of: kline(100, 110, 90, 89)), .lowAboveBody)
        XCTAssertEqual(BarQuality.rejection(of: kline(.nan, 110, 90, 105)), .nonFinite)
        XCTAssertEqual(BarQuality.rejection(of: kline(100, .infinity, 90, 105)), .nonFinite)
        XCTAssertEqual(BarQuality.rejection(of: kline(volume: .nan)), .nonFinite)
        XCTAssertEqual(BarQuality.rejection(of: kline(100, 110, -1, 105)), .negative)
        XCTAssertEqual(BarQuality.rejection(of: kline(100, 110, 0, 105)), .negative)
        XCTAssertEqual(BarQuality.rejection(of: kline(volume: -0.5)), .negative)
    }

    func testOpenTimesOffTheGrid() {
        XCTAssertEqual(BarQuality.rejection(of: kline(at: 1_670_608_800_000 + 1)), .offGrid)
        XCTAssertEqual(BarQuality.rejection(of: kline(interval: .oneMonth, at: 1_704_067_200_000 + 86_400_000)), .offGrid)
        XCTAssertEqual(BarQuality.rejection(of: kline(interval: .oneWeek, at: 0)), .offGrid)
    }

    func testAKlineOfAnotherMarketIsRejectedFirst() {
        XCTAssertNil(BarQuality.rejection(of: kline(), symbol: "BTCUSDT", interval: .oneHour))
        XCTAssertEqual(BarQuality.rejection(of: kline(), symbol: "ETHUSDT", interval: .oneHour), .wrongMarket)
        XCTAssertEqual(BarQuality.rejection(of: kline(), symbol: "BTCUSDT", interval: .fourHours), .wrongMarket)
        XCTAssertEqual(BarQuality.rejection(of: kline(at: 1), symbol: "BTCUSDT", interval: .oneHour), .offGrid)
    }

    func testReasonLabelsAreTheMetricLabels() {
        XCTAssertEqual(
            MarketDataRejectReason.allCases.map(\.rawValue),
            [
                "malformed", "non_finite", "negative", "high_below_body", "low_above_body", "off_grid", "wrong_market",
                "duplicate", "out_of_order",
            ])
    }
}
