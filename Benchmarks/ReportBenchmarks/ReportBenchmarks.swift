// The backtest report PDF (issue target < 1 s): a 5,000-trade, 200,000-bar backtest report, from
// the stored bytes as `GET /v1/backtest/report/{task_id}/export?format=pdf` reads them (the report
// JSON with its 5,000-point sampled equity curve, and the min/max chart series stored beside it) to
// the finished PDF: JSON parse, `BacktestDocument`, `ReportPDF.render`. No Redis, no HTTP. Run with
// `swift package benchmark --target ReportBenchmarks` in Benchmarks/.
import Benchmark
import JSONCodec
import ReportPDF
import TradingCore

/// A seeded report: hourly equity marks from 2017-01-01 (a random walk) and `trades` trades
/// spread evenly over them.
func syntheticReport(trades n: Int, bars: Int) -> BacktestReport {
    var state: UInt64 = 20_240_101
    func unit() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) / Double(1 << 53)
    }
    let hour: Int64 = 3_600_000
    let times = (0..<bars).map { 1_483_228_800_000 + Int64($0) * hour }
    var value = 10_000.0
    let equity = times.map { _ -> Double in
        value *= 1 + (unit() - 0.4999) * 0.004
        return value
    }
    let trades = (0..<n).map { i -> Trade in
        let entry = times[i * (bars - 1) / n]
        let price = 20_000 + 5_000 * unit()
        let pnl = (unit() - 0.45) * 200
        return Trade(
            entryTime: entry, exitTime: entry + 5 * hour, side: i % 4 == 0 ? .sell : .buy, entryPrice: price,
            exitPrice: price + pnl / 0.4, size: 0.4, pnl: pnl, commission: price * 0.0008, slippage: price * 0.0002,
            exitReason: [.stopLoss, .profitTarget, .trailingStop, .signal][i % 4])
    }
    return BacktestReport(
        strategyName: "pullback", parameters: ["ema": 20, "atr_mult": 2.5], initialBalance: 10_000, trades: trades,
        equityTimes: times, equity: equity)
}

/// The two stored texts of a finished job, as the gateway writes them: the report with its equity
/// curve sampled to 5,000 evenly spaced bars, and the chart series (1,000 min/max buckets).
func storedTexts(_ report: BacktestReport) -> (report: [UInt8], chart: [UInt8]) {
    let n = report.equity.count
    let point = { (i: Int) in
        JSONValue.array([.string(RFC3339.format(milliseconds: report.equityTimes[i])), .double(report.equity[i])])
    }
    var members = report.jsonValue(includeDetail: true).objectValue ?? [:]
    members["equity_curve"] = .array((0..<5000).map { k in point(Int(Double(k) * Double(n - 1) / 4999)) })
    let chart = JSONValue.array(MinMaxSampler.indices(report.equity, buckets: 1000).map(point))
    return (Array(JSONCodec.encodeString(.object(members)).utf8), Array(JSONCodec.encodeString(chart).utf8))
}

/// The PDF of the stored texts.
func renderStored(_ stored: (report: [UInt8], chart: [UInt8])) throws -> [UInt8] {
    let document = try BacktestDocument(
        report: try JSONCodec.parse(stored.report), curve: try JSONCodec.parse(stored.chart))
    return try ReportPDF.render(document)
}

let benchmarks: @Sendable () -> Void = {
    let stored = storedTexts(syntheticReport(trades: 5_000, bars: 200_000))
    // Once, outside the measurement: the file has every page (title, charts, 132 trade pages).
    let pages = (try? renderStored(stored)).map {
        String(decoding: $0, as: UTF8.self).components(separatedBy: "/Type /Page").dropFirst()
            .filter { !$0.hasPrefix("s") }.count
    }
    precondition(pages == ReportPDF.pageCount(trades: 5_000), "the PDF has \(pages ?? 0) pages")
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident], timeUnits: .milliseconds,
        warmupIterations: 1, maxDuration: .seconds(10), maxIterations: 20)
    Benchmark("report PDF: 5,000 trades, 200,000 bars (stored JSON to PDF bytes)", configuration: configuration) {
        benchmark in
        for _ in benchmark.scaledIterations { blackHole(try renderStored(stored)) }
    }
}
