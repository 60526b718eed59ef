import XCTest

@testable import TradingCore

final class IndicatorTests: XCTestCase {
    func testSMAIsUndefinedUntilFullThenMeanOfLastN() {
        var sma = SMA(period: 3)
        XCTAssertEqual([1.0, 2, 3, 4, 5, 9].map { sma.update($0) }, [nil, nil, 2, 3, 4, 6])
    }

    func testEMASeededWithSMAThenSmoothed() {
        var ema = EMA(period: 3)  // alpha = 0.5
        XCTAssertEqual([1.0, 2, 3, 5, 1].map { ema.update($0) }, [nil, nil, 2, 3.5, 2.25])
    }

    func testATRWilder() {
        var atr = ATR(period: 2)
        // TR: 2 (first bar: high − low), 2, 3, then a gap up: max(1, |15 − 12|, |14 − 12|) = 3.
        XCTAssertNil(atr.update(high: 10, low: 8, close: 9))
        XCTAssertEqual(atr.update(high: 11, low: 9, close: 10), 2)  // (2 + 2) / 2
        XCTAssertEqual(atr.update(high: 13, low: 10, close: 12), 2.5)  // (2 × 1 + 3) / 2
        XCTAssertEqual(atr.update(high: 15, low: 14, close: 14.5), 2.75)  // (2.5 + 3) / 2
    }

    func testRSIWilder() throws {
        var rsi = RSI(period: 2)
        XCTAssertNil(rsi.update(10))
        XCTAssertNil(rsi.update(11))  // +1
        // −0.5: avg gain 0.5, avg loss 0.25 → RS 2 → 66.67
        XCTAssertEqual(try XCTUnwrap(rsi.update(10.5)), 100 - 100 / 3.0, accuracy: 1e-12)
        // +1.5: avg gain (0.5 + 1.5)/2 = 1, avg loss 0.25/2 = 0.125 → RS 8 → 88.89
        XCTAssertEqual(try XCTUnwrap(rsi.update(12)), 100 - 100 / 9.0, accuracy: 1e-12)
    }

    func testRSIWithoutLossesIs100AndFlatIs50() {
        var up = RSI(period: 2)
        [1.0, 2, 3].forEach { up.update($0) }
        XCTAssertEqual(up.value, 100)
        var flat = RSI(period: 2)
        [1.0, 1, 1].forEach { flat.update($0) }
        XCTAssertEqual(flat.value, 50)
    }

    func testRollingHighestAndLowest() {
        var high = RollingExtreme(period: 3, kind: .highest)
        var low = RollingExtreme(period: 3, kind: .lowest)
        let xs = [5.0, 3, 4, 1, 2, 6]
        XCTAssertEqual(xs.map { high.update($0) }, [nil, nil, 5, 4, 4, 6])
        XCTAssertEqual(xs.map { low.update($0) }, [nil, nil, 3, 1, 1, 1])
    }

    func testRollingExtremeMatchesNaiveWindow() {
        var rng = SystemRandomNumberGenerator()
        for period in [1, 2, 5, 17] {
            var high = RollingExtreme(period: period, kind: .highest)
            var low = RollingExtreme(period: period, kind: .lowest)
            var xs: [Double] = []
            for _ in 0..<500 {
                let x = Double(Int.random(in: 0..<20, using: &rng))  // many ties
                xs.append(x)
                let h = high.update(x), l = low.update(x)
                if xs.count >= period {
                    let window = xs.suffix(period)
                    XCTAssertEqual(h, window.max())
                    XCTAssertEqual(l, window.min())
                } else {
                    XCTAssertNil(h)
                    XCTAssertEqual(high.partialValue, xs.max())
                }
            }
        }
    }

    func testSMAStaysAccurateOverLongRuns() {
        var sma = SMA(period: 7)
        var xs: [Double] = []
        for k in 0..<200_000 {
            let x = 1e6 + Double(k % 97) * 0.01 + (k % 2 == 0 ? 1e-3 : 0)
            xs.append(x)
            sma.update(x)
        }
        let naive = xs.suffix(7).reduce(0, +) / 7
        XCTAssertEqual(sma.value!, naive, accuracy: 1e-9)
    }

    func testTrendScreen() {
        var screen = TrendScreen(period: 2)
        XCTAssertEqual(screen.update(close: 10), .none)
        XCTAssertEqual(screen.update(close: 11), .none)  // SMA 10.5, no previous SMA yet
        XCTAssertEqual(screen.update(close: 12), .up)  // SMA 11.5 > 10.5, close above
        XCTAssertEqual(screen.update(close: 11.6), .none)  // SMA 11.8 rising, but close below it
        XCTAssertEqual(screen.update(close: 9), .down)  // SMA 10.3 falling, close below
    }
}
