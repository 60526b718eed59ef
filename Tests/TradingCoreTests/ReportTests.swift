import JSONCodec
import XCTest

@testable import TradingCore

/// What a user sees of a report: JSON keys and values, CSV rows, text lines, metric lookup.
final class ReportTests: XCTestCase {
    static let hour: Int64 = 3_600_000
    /// 2023-11-14T22:00:00Z = 1 699 999 200 s since the epoch.
    static let t0: Int64 = 1_699_999_200_000

    func sampleReport(trades: [Trade]? = nil) -> BacktestReport {
        let times = (0..<4).map { ReportTests.t0 + Int64($0) * ReportTests.hour }
        let tr =
            trades ?? [
                Trade(
                    entryTime: times[1], exitTime: times[2], side: .buy, entryPrice: 100, exitPrice: 110,
                    size: 2, pnl: 19.5, commission: 0.5, slippage: 0.25, exitReason: .profitTarget),
                Trade(
                    entryTime: times[2], exitTime: times[3], side: .sell, entryPrice: 110, exitPrice: 112,
                    size: 1, pnl: -2.5, commission: 0.5, slippage: 0.125, exitReason: .stopLoss),
            ]
        return BacktestReport(
            strategyName: "pullback", parameters: ["slow": 20, "fast": 10],
            initialBalance: 1000, trades: tr, equityTimes: times,
            equity: [1000, 1000, 1019.5, 1017])
    }

    func testRFC3339() {
        XCTAssertEqual(RFC3339.format(milliseconds: 0), "1970-01-01T00:00:00Z")
        XCTAssertEqual(RFC3339.format(milliseconds: 1_700_000_000_000), "2023-11-14T22:13:20Z")
        XCTAssertEqual(RFC3339.format(milliseconds: 951_782_400_000), "2000-02-29T00:00:00Z")
        XCTAssertEqual(RFC3339.format(milliseconds: -1), "1969-12-31T23:59:59.999Z")
        XCTAssertEqual(RFC3339.format(milliseconds: 1_500), "1970-01-01T00:00:01.500Z")
        XCTAssertEqual(RFC3339.format(milliseconds: 253_402_300_800_000), "10000-01-01T00:00:00Z")
    }

    func testJSONKeysInSpecOrderWithNulls() throws {
        let report = sampleReport(trades: [])
        let json = report.json()
        // Every SPEC §8 key is present, in this order.
        let keys = [
            "strategy_name", "start_date", "end_date", "initial_balance", "final_balance",
            "total_trades", "winning_trades", "losing_trades", "win_rate", "avg_win", "avg_loss",
            "profit_factor", "max_drawdown", "sharpe_ratio", "sortino_ratio", "calmar_ratio",
            "omega_ratio", "total_commission", "total_slippage", "roi", "exposure_pct",
            "parameters", "trades", "equity_curve",
        ]
        var last = json.startIndex
        for k in keys {
            let r = try XCTUnwrap(json.range(of: "\"\(k)\":", range: last..<json.endIndex), "missing or out of order: \(k)")
            last = r.upperBound
        }
        XCTAssertTrue(
            json.hasPrefix(
                #"{"strategy_name":"pullback","start_date":"2023-11-14T22:00:00Z","end_date":"2023-11-15T01:00:00Z","initial_balance":1000,"#
            ))
        // No trades: profit factor is null, not 0 or infinity.
        XCTAssertTrue(json.contains(#""profit_factor":null"#))
        XCTAssertTrue(json.contains(#""parameters":{"fast":10,"slow":20}"#), "sorted keys")
        XCTAssertTrue(json.contains(#""trades":[]"#))
    }

    func testJSONTradesAndEquityCurve() throws {
        let json = sampleReport().json()
        XCTAssertTrue(
            json.contains(
                #"{"entry_time":"2023-11-14T23:00:00Z","exit_time":"2023-11-15T00:00:00Z","side":"BUY","entry_price":100,"exit_price":110,"size":2,"pnl":19.5,"commission":0.5,"slippage":0.25,"exit_reason":"PROFIT_TARGET"}"#
            ))
        XCTAssertTrue(json.contains(#""side":"SELL""#))
        XCTAssertTrue(
            json.hasSuffix(
                #""equity_curve":[["2023-11-14T22:00:00Z",1000],["2023-11-14T23:00:00Z",1000],["2023-11-15T00:00:00Z",1019.5],["2023-11-15T01:00:00Z",1017]]}"#
            ))
        // final = 1000 + 19.5 − 2.5 = 1017; roi = 1.7 %; one win of two; pf = 19.5 / 2.5 = 7.8
        XCTAssertTrue(json.contains(#""final_balance":1017,"#))
        XCTAssertTrue(json.contains(#""win_rate":50,"#))
        XCTAssertTrue(json.contains(#""profit_factor":7.8,"#))
        XCTAssertTrue(json.contains(#""total_commission":1,"#))
        XCTAssertTrue(json.contains(#""total_slippage":0.375,"#))
    }

    /// `json()` streams the equity curve; it must equal encoding `jsonValue()`, in any chunk size.
    func testStreamedJSONIsTheEncodedValue() {
        let withMillis = BacktestReport(
            strategyName: "x\"y", parameters: ["p": 0.1 + 0.2], initialBalance: 1000,
            trades: [], equityTimes: [-1, 1_500, 86_400_000 * 365 * 40],
            equity: [1000, 999.999999999, -0.0])
        for report in [sampleReport(), sampleReport(trades: []), withMillis] {
            let expected = JSONCodec.encode(report.jsonValue(), doubles: .shortest)
            XCTAssertEqual(Array(report.json().utf8), expected)
            var pieces: [[UInt8]] = []
            report.writeJSON(chunk: 16) { pieces.append(Array($0)) }
            XCTAssertGreaterThan(pieces.count, 2)
            XCTAssertEqual(Array(pieces.joined()), expected)
        }
    }

    func testCSVOneRowPerTrade() {
        let lines = sampleReport().csv().split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 4, "header, two trades, trailing newline")
        XCTAssertEqual(lines[0], "entry_time,exit_time,side,entry_price,exit_price,size,pnl,commission,slippage,exit_reason")
        XCTAssertEqual(lines[1], "2023-11-14T23:00:00Z,2023-11-15T00:00:00Z,BUY,100,110,2,19.5,0.5,0.25,PROFIT_TARGET")
        XCTAssertEqual(lines[2], "2023-11-15T00:00:00Z,2023-11-15T01:00:00Z,SELL,110,112,1,-2.5,0.5,0.125,STOP_LOSS")
        XCTAssertEqual(lines[3], "")
        XCTAssertEqual(sampleReport(trades: []).csv(), BacktestReport.csvHeader.joined(separator: ",") + "\n")
    }

    func testTextReport() {
        let text = sampleReport().text()
        XCTAssertTrue(text.hasPrefix("Backtest: pullback (fast=10, slow=20)\n"))
        XCTAssertTrue(text.contains("Final balance      1017.00\n"))
        XCTAssertTrue(text.contains("ROI                1.70 %\n"))
        XCTAssertTrue(text.contains("Trades             2 (1 won, 1 lost)\n"))
        XCTAssertTrue(text.contains("Profit factor      7.800\n"))
        XCTAssertTrue(text.contains("PROFIT_TARGET"))
        XCTAssertTrue(sampleReport(trades: []).text().contains("Profit factor      n/a\n"))
        XCTAssertEqual(TextFormat.fixed(-0.004, 2), "0.00")
        XCTAssertEqual(TextFormat.fixed(2.345, 1), "2.3")
        XCTAssertEqual(TextFormat.fixed(-12.5, 0), "-13")
    }

    func testMetricByName() throws {
        let r = sampleReport()
        XCTAssertEqual(try r.metric(named: "roi")!, 1.7, accuracy: 1e-9)
        XCTAssertEqual(try r.metric(named: "total_trades"), 2)
        XCTAssertEqual(try r.metric(named: "profit_factor")!, 7.8, accuracy: 1e-9)
        // (1019.5 − 1017) / 1019.5
        XCTAssertEqual(try r.metric(named: "max_drawdown")!, 2.5 / 1019.5 * 100, accuracy: 1e-9)
        XCTAssertThrowsError(try r.metric(named: "sharpe")) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.hasPrefix("unknown metric 'sharpe'; valid metrics: roi, "))
            XCTAssertTrue(message.contains("sharpe_ratio"))
        }
        // Every advertised name resolves.
        for name in BacktestReport.metricNames { XCTAssertNoThrow(try r.metric(named: name)) }
    }
}
