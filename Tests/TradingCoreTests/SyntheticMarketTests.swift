import XCTest

@testable import TradingCore

final class SyntheticMarketTests: XCTestCase {
    private let bars = 5_000

    func testSameSeedSameSeriesOtherSeedOtherSeries() {
        let a = SyntheticMarket.generate(.btcusdt, bars: 500, seed: 42)
        let b = SyntheticMarket.generate(.btcusdt, bars: 500, seed: 42)
        let c = SyntheticMarket.generate(.btcusdt, bars: 500, seed: 43)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a.close, c.close)
        XCTAssertEqual(SyntheticMarket.generate(.btcusdt, bars: 0, seed: 1).count, 0)
    }

    func testOHLCSanityAndHourlyTimes() {
        for preset in SyntheticMarket.Preset.all {
            let s = SyntheticMarket.generate(preset, bars: bars, seed: 7)
            XCTAssertEqual(s.count, bars)
            XCTAssertEqual(s.time[0], preset.startTime)
            for i in 0..<s.count {
                let bar = s[i]
                XCTAssertLessThanOrEqual(bar.low, Swift.min(bar.open, bar.close), "\(preset.market) bar \(i)")
                XCTAssertGreaterThanOrEqual(bar.high, Swift.max(bar.open, bar.close), "\(preset.market) bar \(i)")
                XCTAssertGreaterThan(bar.volume, 0)
                XCTAssertGreaterThan(bar.low, 0)
                if i > 0 { XCTAssertEqual(s.time[i] - s.time[i - 1], 3_600_000) }
            }
            // Starts near the preset's price.
            XCTAssertEqual(s.open[0], preset.startPrice, accuracy: preset.startPrice * 0.05)
        }
    }

    func testVolatilityClusteringAndVolumeFollowsVolatility() {
        let s = SyntheticMarket.generate(.btcusdt, bars: bars, seed: 11)
        var returns: [Double] = []
        for i in 1..<s.count { returns.append(log(s.close[i] / s.close[i - 1])) }
        let squared = returns.map { $0 * $0 }
        let rho = autocorrelation(squared, lag: 1)
        XCTAssertGreaterThan(rho, 0.05, "squared returns should be positively autocorrelated (GARCH)")
        // Plain returns are close to uncorrelated.
        XCTAssertLessThan(abs(autocorrelation(returns, lag: 1)), rho)
        // Volume correlates with the bar's absolute return.
        let absReturns = returns.map(abs)
        XCTAssertGreaterThan(correlation(absReturns, Array(s.volume.dropFirst())), 0.1)
    }

    func testCSVRoundTripsThroughMarketData() throws {
        let s = SyntheticMarket.generate(.ethusdt, bars: 300, seed: 3)
        let text = SyntheticMarket.csv(s)
        XCTAssertTrue(text.hasPrefix("time,open,high,low,close,volume\n2024-01-01T00:00:00Z,"))
        let loaded = try MarketData.load(bytes: Array(text.utf8), name: "ETHUSDT-1h.csv")
        XCTAssertEqual(loaded, s)
    }

    func testRealStrategiesFireOnTheSyntheticMarket() throws {
        for preset in SyntheticMarket.Preset.all {
            let s = SyntheticMarket.generate(preset, bars: bars, seed: 1)
            let pullback = try Backtester.run(series: s, strategyName: "pullback")
            XCTAssertTrue(pullback.tradeSignalTypes.contains(.pullbackBuy), "\(preset.market): no PULLBACK_BUY trade")
            let oops = try Backtester.run(series: s, strategyName: "oops")
            XCTAssertTrue(
                oops.tradeSignalTypes.contains { $0 == .oopsBuy || $0 == .oopsSell },
                "\(preset.market): no OOPS trade")
            XCTAssertGreaterThan(oops.signalsGenerated, 0)
        }
    }

    private func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }

    private func correlation(_ x: [Double], _ y: [Double]) -> Double {
        let mx = mean(x), my = mean(y)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in 0..<Swift.min(x.count, y.count) {
            sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) * (x[i] - mx); syy += (y[i] - my) * (y[i] - my)
        }
        return sxy / (sxx * syy).squareRoot()
    }

    private func autocorrelation(_ x: [Double], lag: Int) -> Double {
        correlation(Array(x.dropLast(lag)), Array(x.dropFirst(lag)))
    }
}
