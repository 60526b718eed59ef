import JSONCodec
import ReportPDF
import TradingCore
import XCTest

final class ReportPDFTests: XCTestCase {
    /// Page objects in a PDF file (`/Type /Page`, not `/Type /Pages`).
    private func pages(_ pdf: [UInt8]) -> Int {
        let text = String(decoding: pdf, as: UTF8.self)
        return text.components(separatedBy: "/Type /Page").dropFirst().filter { !$0.hasPrefix("s") }.count
    }

    func testRendersAPDFFile() throws {
        let doc = try BacktestDocument(report: SampleReports.json(trades: 5, bars: 500), context: ["Task bt-1"])
        let pdf = try ReportPDF.render(doc)
        XCTAssertEqual(Array(pdf.prefix(5)), Array("%PDF-".utf8))
        XCTAssertTrue(String(decoding: pdf.suffix(16), as: UTF8.self).contains("%%EOF"))
        XCTAssertEqual(pages(pdf), 3)
    }

    func testOnePageForEveryFullTablePage() throws {
        let perPage = ReportPDF.tradeRowsPerPage
        for (trades, expected) in [(0, 3), (1, 3), (perPage, 3), (perPage + 1, 4), (5 * perPage + 2, 8)] {
            let doc = try BacktestDocument(report: SampleReports.json(trades: trades, bars: 300))
            XCTAssertEqual(doc.trades.count, trades)
            XCTAssertEqual(ReportPDF.pageCount(trades: trades), expected, "\(trades) trades")
            XCTAssertEqual(pages(try ReportPDF.render(doc)), expected, "\(trades) trades")
        }
    }

    func testMetricsAreReadableRowsWithUnits() throws {
        let report = SampleReports.report(trades: 12, bars: 400)
        let doc = try BacktestDocument(report: report.jsonValue())
        let rows = Dictionary(uniqueKeysWithValues: doc.metrics.map { ($0.label, $0.value) })
        XCTAssertEqual(rows["Trades"], "12")
        XCTAssertEqual(rows["Return on investment"], TextFormat.fixed(report.metrics.roi, 2) + " %")
        XCTAssertEqual(rows["Max drawdown"], TextFormat.fixed(report.metrics.maxDrawdown, 2) + " %")
        XCTAssertEqual(rows["Final balance"], TextFormat.fixed(report.metrics.finalBalance, 2))
        XCTAssertEqual(doc.title, "Backtest report: sma_cross")
        XCTAssertTrue(doc.subtitle.contains("Parameters: fast = 10, slow = 20"), "\(doc.subtitle)")
        XCTAssertEqual(doc.trades.first?.entryTime, report.trades.first?.entryTime)
        XCTAssertEqual(doc.equity.count, 400)
        XCTAssertEqual(BacktestDocument.readable("STOP_LOSS"), "Stop loss")
        XCTAssertEqual(BacktestDocument.readable("END_OF_DATA"), "End of data")
    }

    func testNullMetricsSayNotAvailable() throws {
        // No losing trade: the profit factor is null in the report.
        let report = BacktestReport(
            strategyName: "oops", parameters: [:], initialBalance: 1000,
            trades: [
                Trade(
                    entryTime: SampleReports.start, exitTime: SampleReports.start + SampleReports.hour, side: .buy,
                    entryPrice: 10, exitPrice: 11, size: 1, pnl: 1, commission: 0, slippage: 0, exitReason: .profitTarget)
            ],
            equityTimes: [SampleReports.start, SampleReports.start + SampleReports.hour], equity: [1000, 1001])
        let doc = try BacktestDocument(report: report.jsonValue())
        XCTAssertEqual(doc.metrics.first { $0.label == "Profit factor" }?.value, "n/a")
        XCTAssertEqual(Array(try ReportPDF.render(doc).prefix(4)), Array("%PDF".utf8))
    }

    func testRefusesWhatIsNotABacktestReport() {
        XCTAssertThrowsError(try BacktestDocument(report: ["kind": "optimize", "ranked": .array([])]))
        XCTAssertThrowsError(try BacktestDocument(report: .array([])))
    }

    func testStoredTimesParseBack() {
        for ms: Int64 in [0, 1_700_000_000_000, 951_782_400_000, 1_500, 1_483_228_800_123] {
            XCTAssertEqual(UTCTime.parse(RFC3339.format(milliseconds: ms)), ms)
        }
        XCTAssertNil(UTCTime.parse("2024-01-01 00:00:00Z"))
        XCTAssertNil(UTCTime.parse("2024-13-01T00:00:00Z"))
        XCTAssertNil(UTCTime.parse("2024-01-01T00:00:00+01:00"))
        XCTAssertEqual(UTCTime.minute(1_700_000_000_000), "2023-11-14 22:13")
    }

    func testDrawdownFromThePeak() {
        let points = [100.0, 120, 90, 130, 117].enumerated().map { BacktestDocument.Point(time: Int64($0), equity: $1) }
        let dd = BacktestDocument(title: "t", equity: points).drawdown.map(\.equity)
        XCTAssertEqual(dd[0], 0)
        XCTAssertEqual(dd[1], 0)
        XCTAssertEqual(dd[2], -25, accuracy: 1e-9)
        XCTAssertEqual(dd[3], 0)
        XCTAssertEqual(dd[4], -10, accuracy: 1e-9)
    }

    func testThinningKeepsPeaksAndTroughs() {
        let report = SampleReports.report(trades: 0, bars: 50_000)
        let kept = MinMaxSampler.indices(report.equity, buckets: 500)
        XCTAssertLessThanOrEqual(kept.count, 2000)
        XCTAssertEqual(kept, kept.sorted())
        XCTAssertEqual(kept.first, 0)
        XCTAssertEqual(kept.last, 49_999)
        let thin = kept.map { BacktestDocument.Point(time: report.equityTimes[$0], equity: report.equity[$0]) }
        let full = report.equity.enumerated().map { BacktestDocument.Point(time: Int64($0), equity: $1) }
        let worst = { (p: [BacktestDocument.Point]) in BacktestDocument(title: "", equity: p).drawdown.map(\.equity).min()! }
        XCTAssertEqual(worst(thin), worst(full), accuracy: 1e-9)
        XCTAssertEqual(thin.map(\.equity).max(), report.equity.max())
        XCTAssertEqual(MinMaxSampler.indices([1, 2, 3], buckets: 10), [0, 1, 2])
    }
}
