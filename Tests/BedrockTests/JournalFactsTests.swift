import LLMCore
import XCTest

@testable import Bedrock

/// The facts Bedrock gives the model for a journal entry and a review memo, computed from stored
/// ledger hashes without any socket: every placeholder filled, numbers plain, metrics as defined.
final class JournalFactsTests: XCTestCase {
    private let trade: [String: String] = [
        "id": "7", "position_id": "3", "signal_id": "12", "market": "BTCUSDT", "side": "BUY", "size": "0.3",
        "entry_price": "100.1", "exit_price": "110.2", "pnl": "2.96631", "gross_pnl": "3.03",
        "commission": "0.06369", "exit_reason": "TARGET", "entry_time": "2026-03-01T10:00:00.000Z",
        "exit_time": "2026-03-02T11:30:00.000Z", "duration_s": "91800",
    ]

    func testJournalValuesFillEveryPlaceholderWithTheLedgersText() {
        let signal = ["strategy": "pullback", "explanation": "Pullback to the 20 SMA in an uptrend."]
        let values = JournalFacts.values(trade: trade, signal: signal)
        XCTAssertEqual(Set(values.keys), LLMTask.journal.placeholders)
        XCTAssertEqual(values["trade_id"], "7")
        XCTAssertEqual(values["quantity"], "0.3")
        XCTAssertEqual(values["entry_price"], "100.1")
        XCTAssertEqual(values["pnl"], "2.96631")
        XCTAssertEqual(values["commission"], "0.06369")
        XCTAssertEqual(values["exit_time"], "2026-03-02T11:30:00.000Z")
        XCTAssertEqual(values["strategy"], "pullback")
        XCTAssertEqual(values["signal_explanation"], "Pullback to the 20 SMA in an uptrend.")
        // 2.96631 / (100.1 × 0.3) × 100 = 9.8778...
        XCTAssertEqual(values["return_pct"], "9.88")
    }

    func testATradeWithoutSignalOrCostSaysSoInsteadOfInventing() {
        var manual = trade
        manual["signal_id"] = nil
        manual["entry_price"] = "0"
        manual["exit_reason"] = nil
        let values = JournalFacts.values(trade: manual, signal: nil)
        XCTAssertEqual(values["strategy"], JournalFacts.noSignal)
        XCTAssertEqual(values["signal_explanation"], JournalFacts.noSignal)
        XCTAssertEqual(values["return_pct"], "n/a")
        XCTAssertEqual(values["exit_reason"], "n/a")
    }

    func testFixedTwoDecimalsRoundsHalfAwayFromZeroAndNeverWritesMinusZero() {
        XCTAssertEqual(FactText.fixed2(12.5), "12.50")
        XCTAssertEqual(FactText.fixed2(0.1 + 0.2), "0.30")
        XCTAssertEqual(FactText.fixed2(-3.255), "-3.26")
        XCTAssertEqual(FactText.fixed2(-0.001), "0.00")
        XCTAssertEqual(FactText.fixed2(-0.05), "-0.05")
        XCTAssertEqual(FactText.fixed2(1234567.891), "1234567.89")
        XCTAssertEqual(FactText.fixed2(.nan), "n/a")
        XCTAssertEqual(FactText.fixed2(.infinity), "n/a")
    }

    func testReviewPeriodsAreRealUTCDaysInOrderAndAtMost366DaysLong() throws {
        let leap = try ReviewPeriod(startDate: "2024-01-01", endDate: "2024-12-31")
        XCTAssertEqual(leap.end, "2024-12-31")
        XCTAssertTrue(leap.contains(exitTime: "2024-12-31T23:59:59.999Z"))
        XCTAssertFalse(leap.contains(exitTime: "2025-01-01T00:00:00.000Z"))
        XCTAssertTrue(leap.isBefore(exitTime: "2023-12-31T23:59:59.999Z"))
        XCTAssertNoThrow(try ReviewPeriod(startDate: "2026-02-28", endDate: "2026-02-28"))
        let refused: [(String?, String?, String)] = [
            (nil, "2026-01-01", "start_date is required"), ("2026-01-01", "", "end_date is required"),
            ("2026-1-01", "2026-01-02", "start_date must be a date"), ("2026-02-29", "2026-03-01", "start_date"),
            ("2026-01-01", "2026-13-01", "end_date must be a date"), ("2026-01-01", "2026-01-32", "end_date"),
            ("2026-01-05", "2026-01-04", "end_date (2026-01-04) is before start_date"),
            ("2025-01-01", "2026-01-02", "spans 367 days"), ("２０２６-01-01", "2026-01-02", "start_date"),
        ]
        for (start, end, message) in refused {
            XCTAssertThrowsError(try ReviewPeriod(startDate: start, endDate: end)) { error in
                let api = error as? APIError
                XCTAssertEqual(api?.code, .badRequest)
                XCTAssertTrue(
                    api?.message.contains(message) ?? false, "\(start ?? "nil")..\(end ?? "nil"): \(api?.message ?? "")")
            }
        }
        XCTAssertNoThrow(try ReviewPeriod(startDate: "2025-01-01", endDate: "2026-01-01"), "366 days")
    }

    private func closed(_ id: Int, pnl: String, entry: String = "100", size: String = "1") -> [String: String] {
        [
            "id": String(id), "market": "BTCUSDT", "side": "BUY", "size": size, "entry_price": entry, "exit_price": "101",
            "pnl": pnl, "exit_reason": "STOP", "exit_time": "2026-03-0\(min(id, 9))T00:00:00.000Z",
        ]
    }

    func testReviewMetricsFollowTheirDocumentedDefinitions() throws {
        let period = try ReviewPeriod(startDate: "2026-03-01", endDate: "2026-03-31")
        // Equity from 1000: 1100, 1045, 1067, 1012.5 → peak 1100, trough 1012.5: 7.95 %.
        let trades = [closed(1, pnl: "100"), closed(2, pnl: "-55"), closed(3, pnl: "22"), closed(4, pnl: "-54.5")]
        let values = ReviewFacts.values(period: period, trades: trades, initialBalance: Money.units("1000")!)
        XCTAssertEqual(Set(values.keys), LLMTask.review.placeholders)
        XCTAssertEqual(values["trade_count"], "4")
        XCTAssertEqual(values["win_rate"], "50.00")
        XCTAssertEqual(values["total_pnl"], "12.5")
        XCTAssertEqual(values["max_drawdown"], "7.95")
        // Returns 1, -0.55, 0.22, -0.545: mean 0.03125 / sample sd 0.74027 × √4 = 0.0844.
        XCTAssertEqual(values["sharpe"], "0.08")
        let lines = try XCTUnwrap(values["trades"]).split(separator: "\n")
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(
            lines.first, "#1 2026-03-01T00:00:00.000Z BTCUSDT BUY size 1 entry 100 exit 101 pnl 100 (STOP)")
        XCTAssertTrue(lines.last?.hasPrefix("#4 ") ?? false, "newest last")
    }

    func testAReviewWithoutTradesOrWithOneHasNoRatesToInvent() throws {
        let period = try ReviewPeriod(startDate: "2026-03-01", endDate: "2026-03-01")
        let none = ReviewFacts.values(period: period, trades: [], initialBalance: 100_000)
        XCTAssertEqual(none["trade_count"], "0")
        XCTAssertEqual(none["win_rate"], "n/a")
        XCTAssertEqual(none["total_pnl"], "0")
        XCTAssertEqual(none["max_drawdown"], "0.00")
        XCTAssertEqual(none["sharpe"], "n/a")
        XCTAssertEqual(none["trades"], "none")
        let one = ReviewFacts.values(period: period, trades: [closed(1, pnl: "-1")], initialBalance: 100_000)
        XCTAssertEqual(one["sharpe"], "n/a")
        XCTAssertEqual(one["win_rate"], "0.00")
        let flat = ReviewFacts.values(
            period: period, trades: [closed(1, pnl: "1"), closed(2, pnl: "1")], initialBalance: 100_000)
        XCTAssertEqual(flat["sharpe"], "n/a", "returns that do not vary have no Sharpe ratio")
    }

    func testTradeLinesStopAt200AndSayHowManyMoreAndWhenTheScanWasCut() throws {
        let period = try ReviewPeriod(startDate: "2026-03-01", endDate: "2026-03-31")
        let trades = (1...250).map { closed($0, pnl: "1") }
        let text = try XCTUnwrap(ReviewFacts.values(period: period, trades: trades, initialBalance: 0, truncated: true)["trades"])
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.count, 202)
        XCTAssertTrue(lines[199].hasPrefix("#200 "))
        XCTAssertEqual(lines[200], "... and 50 more")
        XCTAssertEqual(String(lines[201]), ReviewFacts.truncationNote)
    }
}
