import XCTest

@testable import TradingCore

final class FeatureTrackerTests: XCTestCase {
    private func signal(
        _ side: Side = .buy, order: EntryOrder = .market, price: Double, stop: Double? = nil,
        target: Double? = nil, score: Double = 70
    ) -> EntrySignal {
        EntrySignal(
            signalType: side == .buy ? .pullbackBuy : .oopsSell, side: side, order: order, entryPrice: price,
            stopLoss: stop, profitTarget: target, score: score)
    }

    /// The vectors of a few signal shapes at every bar of `series`, fed in order.
    private func vectors(_ series: BarSeries) -> [[[Double]]] {
        var tracker = FeatureTracker()
        var out: [[[Double]]] = []
        for i in 0..<series.count {
            let bar = series[i]
            tracker.update(bar)
            out.append([
                tracker.vector(for: signal(price: bar.close, stop: bar.low * 0.99, target: bar.close * 1.03), bar: bar),
                tracker.vector(for: signal(.sell, order: .stop(level: bar.low), price: bar.low), bar: bar),
            ])
        }
        return out
    }

    /// Equal, NaN equal to NaN.
    private func assertSame(_ a: [Double], _ b: [Double], _ message: String) {
        XCTAssertEqual(a.count, b.count, message)
        for (x, y) in zip(a, b) where !(x.isNaN && y.isNaN) {
            XCTAssertEqual(x, y, message)
        }
    }

    func testCuttingTheSeriesAfterABarNeverChangesThatBarsVector() {
        let series = SyntheticMarket.generate(.btcusdt, bars: 3_000, seed: 7)
        let full = vectors(series)
        for cut in stride(from: 1, through: 3_000, by: 37) + [49, 50, 51, 60, 61, 2_999] {
            let i = cut - 1
            let partial = vectors(series.prefix(cut))
            XCTAssertEqual(partial.count, cut)
            for k in 0..<2 { assertSame(partial[i][k], full[i][k], "bar \(i) signal \(k)") }
        }
        // Past warm-up every market feature is defined.
        for k in 0..<MLFeatures.count where k != 7 && k != 8 {
            XCTAssertFalse(full[2_000][0][k].isNaN, MLFeatures.names[k])
        }
    }

    func testWarmUpLeavesIndicatorColumnsMissing() {
        let series = SyntheticMarket.generate(.btcusdt, bars: 61, seed: 3)
        let v = vectors(series).map { $0[0] }
        func column(_ name: String) -> [Bool] { v.map { $0[MLFeatures.index(of: name)!].isNaN } }
        // NaN up to (and excluding) the first bar where each is defined.
        let firstDefined: [String: Int] = [
            "rsi_14": 14, "atr_14_pct": 13, "close_vs_sma_50": 49, "sma_50_slope_10": 59,
            "volume_ratio_20": 19, "range_atr": 13, "stop_distance_atr": 13, "return_1": 1, "return_10": 10,
        ]
        for (name, first) in firstDefined {
            let missing = column(name)
            XCTAssertEqual(missing.firstIndex(of: false), first, name)
            XCTAssertFalse(missing[first...].contains(true), name)
        }
        for name in ["rule_score", "reward_risk", "hour_of_day", "day_of_week", "side", "stop_entry"] {
            XCTAssertFalse(column(name).contains(true), name)
        }
        // No stop, no target: stop distance and reward:risk are missing at every bar.
        XCTAssertTrue(vectors(series).allSatisfy { $0[1][7].isNaN && $0[1][8].isNaN })
    }

    func testHandCheckedValuesOnAShortSeries() throws {
        // 2024-01-01 is a Monday; hourly bars from 00:00 UTC. Closes 100, 101, …, 115 (16 bars),
        // high = close + 1, low = close − 1, volume 10 then 30 on the last bar.
        let start: Int64 = 1_704_067_200_000
        var tracker = FeatureTracker()
        var last = Bar(time: 0, open: 0, high: 0, low: 0, close: 0, volume: 0)
        for k in 0..<16 {
            let c = 100 + Double(k)
            last = Bar(
                time: start + Int64(k) * 3_600_000, open: c - 0.5, high: c + 1, low: c - 1, close: c,
                volume: k == 15 ? 30 : 10)
            tracker.update(last)
        }
        let v = tracker.vector(for: signal(price: 115, stop: 112, target: 121, score: 80), bar: last)
        XCTAssertEqual(v.count, MLFeatures.count)
        XCTAssertEqual(v[0], 80)  // rule score
        XCTAssertEqual(v[1], 100)  // RSI: only gains
        // True range 2 for the first bar, then max(2, |c+1 − (c−1)|, …) = 2: ATR 2.
        XCTAssertEqual(v[2], 2.0 / 115, accuracy: 1e-15)
        XCTAssertTrue(v[3].isNaN && v[4].isNaN)  // SMA(50) still warming up
        XCTAssertTrue(v[5].isNaN)  // 16 volumes < 20
        XCTAssertEqual(v[6], 1, accuracy: 1e-15)  // range 2 / ATR 2
        XCTAssertEqual(v[7], 1.5, accuracy: 1e-15)  // |115 − 112| / 2
        XCTAssertEqual(v[8], 2)  // 6 / 3
        XCTAssertEqual(v[9], 15)  // 15:00 UTC
        XCTAssertEqual(v[10], 0)  // Monday
        XCTAssertEqual(v[11], 1)
        XCTAssertEqual(v[12], 115.0 / 114 - 1, accuracy: 1e-15)
        XCTAssertEqual(v[13], 115.0 / 105 - 1, accuracy: 1e-15)
        XCTAssertEqual(v[14], 0)
        // Four more bars: the volume mean of the last 20 is defined.
        for k in 16..<20 {
            let c = 100 + Double(k)
            last = Bar(time: start + Int64(k) * 3_600_000, open: c, high: c + 1, low: c - 1, close: c, volume: 10)
            tracker.update(last)
        }
        let later = tracker.vector(for: signal(.sell, order: .stop(level: 118), price: 118), bar: last)
        XCTAssertEqual(later[5], 10.0 / 11, accuracy: 1e-15)  // 10 / ((19 × 10 + 30) / 20)
        XCTAssertEqual(later[9], 19)
        XCTAssertEqual(later[11], 0)
        XCTAssertEqual(later[14], 1)
    }

    func testWeekdayAndHourAcrossTheEpoch() {
        XCTAssertEqual(FeatureTracker.hourAndWeekday(0).0, 0)
        XCTAssertEqual(FeatureTracker.hourAndWeekday(0).1, 3)  // Thursday
        XCTAssertEqual(FeatureTracker.hourAndWeekday(-1).0, 23)
        XCTAssertEqual(FeatureTracker.hourAndWeekday(-1).1, 2)  // Wednesday
        XCTAssertEqual(FeatureTracker.hourAndWeekday(1_704_067_200_000 + 6 * dayMs).1, 6)  // Sunday
    }
}
