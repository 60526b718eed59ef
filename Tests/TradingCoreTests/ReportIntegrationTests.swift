import XCTest

@testable import TradingCore

/// Reports and optimisations over the real backtester and strategy registry.
final class ReportIntegrationTests: XCTestCase {
    /// 600 hourly bars of a sine wave (period 100 bars) around 100: SMA(5) and SMA(20) cross
    /// twice per wave, so sma_cross trades several times.
    static let series: BarSeries = {
        let bars = (0..<600).map { i -> Bar in
            let c = 100 + 10 * sin(Double(i) * 2 * Double.pi / 100)
            let o = 100 + 10 * sin(Double(i - 1) * 2 * Double.pi / 100)
            return Bar(
                time: 1_700_000_000_000 + Int64(i) * 3_600_000, open: o, high: max(o, c) + 0.5,
                low: min(o, c) - 0.5, close: c, volume: 1_000)
        }
        return BarSeries(bars: bars)
    }()

    func testReportOfARealBacktestIsConsistent() throws {
        let config = BacktestConfig(initialBalance: 10_000, commissionRate: 0.001, slippageRate: 0.0005, risk: nil)
        let result = try Backtester.run(
            series: Self.series, strategyName: "sma_cross",
            parameters: ["fast": 5, "slow": 20], config: config)
        let report = BacktestReport(result)
        XCTAssertGreaterThan(report.trades.count, 3)
        XCTAssertEqual(report.metrics.totalTrades, report.trades.count)
        XCTAssertEqual(report.metrics.finalBalance, result.finalBalance)
        // All positions are closed at the end, so the last equity point is the final balance.
        XCTAssertEqual(report.equity.last!, report.metrics.finalBalance, accuracy: 1e-6)
        XCTAssertEqual(report.metrics.roi, (result.finalBalance - 10_000) / 10_000 * 100, accuracy: 1e-9)
        XCTAssertGreaterThan(report.metrics.totalSlippage, 0)
        XCTAssertEqual(report.metrics.totalCommission, result.totalCommission, accuracy: 1e-9)
        XCTAssertEqual(report.parameters, ["fast": 5, "slow": 20])
        let json = report.json()
        XCTAssertTrue(json.contains(#""start_date":"2023-11-14T22:13:20Z","end_date":"2023-12-09T21:13:20Z""#))
        XCTAssertEqual(json.components(separatedBy: #"["20"#).count - 1, 600, "one equity point per bar")
        XCTAssertEqual(report.csv().split(separator: "\n").count, report.trades.count + 1)
    }

    func testOptimiserOverTheRegistryIsThreadIndependent() throws {
        let config = BacktestConfig(commissionRate: 0.001, risk: nil)
        let evaluate = Optimizer.backtestEvaluator(series: Self.series, strategyName: "sma_cross", config: config)
        let sets = try SearchSpace.candidates(
            [
                ParameterRange(name: "fast", values: [3, 5, 8, 25]),
                ParameterRange(name: "slow", values: [10, 20, 30]),
            ], method: .grid)
        let one = try Optimizer.optimize(
            candidates: sets, range: 0..<600, metric: "roi",
            options: OptimizationOptions(threads: 1), evaluate: evaluate)
        let two = try Optimizer.optimize(
            candidates: sets, range: 0..<600, metric: "roi",
            options: OptimizationOptions(threads: 2), evaluate: evaluate)
        XCTAssertEqual(one.json(), two.json())
        // fast 25 ≥ slow 10 and 20: refused by the strategy, listed as failures.
        XCTAssertEqual(one.failed.map { [$0.parameters["fast"]!, $0.parameters["slow"]!] }, [[25, 10], [25, 20]])
        XCTAssertTrue(one.failed[0].error!.contains("must be smaller than slow"))
        // A window is backtested on its own bars: its report starts at the window's first bar.
        let window = try evaluate(["fast": 5, "slow": 20], 300..<600)
        XCTAssertEqual(window.startTime, Self.series.time[300])
        XCTAssertEqual(window.equity.count, 300)
    }
}
