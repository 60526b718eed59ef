import JSONCodec
import ReportPDF
import TradingCore
import XCTest

@testable import Bedrock

/// The PDF export's chart series of a long backtest: stored beside the report, which it leaves
/// unchanged, and thinned so that the drawdown chart still reaches the report's max drawdown.
final class JobReportChartTests: XCTestCase {
    private func report(bars: Int) -> BacktestReport {
        let hour: Int64 = 3_600_000
        var value = 10_000.0
        var state: UInt64 = 42
        let equity = (0..<bars).map { _ -> Double in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            value *= 1 + (Double(state >> 11) / Double(1 << 53) - 0.5) * 0.02
            return value
        }
        return BacktestReport(
            strategyName: "sma_cross", parameters: [:], initialBalance: 10_000, trades: [],
            equityTimes: (0..<bars).map { 1_483_228_800_000 + Int64($0) * hour }, equity: equity)
    }

    func testALongCurveGetsAThinnedSeriesThatKeepsTheDrawdown() throws {
        let long = report(bars: 60_000)
        let outcome = JobReport.backtest(long)
        let stored = try JSONCodec.parse(try XCTUnwrap(outcome.chart))
        let points = try XCTUnwrap(stored.arrayValue)
        XCTAssertLessThanOrEqual(points.count, 4 * JobReport.chartBuckets)
        // The report keeps its sampled curve and gains no member.
        XCTAssertEqual(outcome.report.objectValue?["equity_curve"]?.arrayValue?.count, JobReport.maxEquityPoints)
        XCTAssertNil(outcome.report.objectValue?["chart"])
        let withSeries = try BacktestDocument(report: outcome.report, curve: stored)
        let sampledOnly = try BacktestDocument(report: outcome.report)
        let deepest = { (d: BacktestDocument) in -(d.drawdown.map(\.equity).min() ?? 0) }
        XCTAssertEqual(deepest(withSeries), long.metrics.maxDrawdown, accuracy: 1e-6)
        XCTAssertLessThan(deepest(sampledOnly), long.metrics.maxDrawdown, "the sampled curve alone misses the trough")
    }

    func testAShortCurveNeedsNoSeries() {
        XCTAssertNil(JobReport.backtest(report(bars: JobReport.maxEquityPoints)).chart)
    }
}
