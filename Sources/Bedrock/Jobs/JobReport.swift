import Foundation
import JSONCodec
import ReportPDF
import TradingCore

/// Job reports: what is stored in Redis, sent in the `completed` frame, answered by
/// `backtest.report` and exported.
///
/// - Backtest: the report of SPEC §8 (`BacktestReport` JSON: metrics, `parameters`, `trades`,
///   `equity_curve`), except that the equity curve holds at most `maxEquityPoints` points
///   (evenly spaced bars, first and last always kept), so a million-bar run stays a readable
///   report. CSV: one row per trade (`BacktestReport.csvHeader`). A longer curve is also kept,
///   min/max-thinned, as the PDF export's chart series (`chartSeries`).
/// - Optimisation: `{"kind":"optimize","strategy_name","method","metric","walk_forward",...}` plus
///   the optimiser's ranking (`OptimizationResult` / `WalkForwardResult` JSON), `ml_model` and,
///   with `compare`, `"compare": {"rules_only": <the same search without the model>}`. CSV: one
///   row per ranked parameter set (of the run with the model).
/// - With `compare`, a backtest report gains `"compare": {"rules_only": <that run's report without
///   trades, its equity curve sampled alike>}`.
///
/// Each report is built once as a `JSONValue` and encoded once, in the wire style
/// (`significant15`): whole-number metrics are integers (`JSONValue.plain`), equity points are
/// doubles (`5000.0`), as stored reports have always been written.
enum JobReport {
    /// Most equity-curve points kept in a job report.
    static let maxEquityPoints = 5000

    /// Report columns of the optimisation CSV after rank, parameters and score.
    static let optimizationColumns = ["roi", "max_drawdown", "sharpe_ratio", "win_rate", "profit_factor", "total_trades"]

    /// A backtest's report (sampled equity curve) and trade CSV.
    static func backtest(_ report: BacktestReport) -> JobOutcome {
        var members = report.jsonValue(includeDetail: false).objectValue ?? [:]
        let compare = members["compare"]
        members["compare"] = nil
        members["trades"] = .array(report.trades.map(BacktestReport.tradeJSON))
        members["equity_curve"] = sampledCurve(report)
        if var compared = compare?.objectValue {
            // The compared runs (rules only) without trades, with their sampled equity curves.
            for (name, run) in report.compare {
                guard var object = compared[name]?.objectValue else { continue }
                object["equity_curve"] = sampledCurve(run)
                compared[name] = .object(object)
            }
            members["compare"] = .object(compared)
        }
        var result = outcome(.object(members), csv: report.csv())
        result.chart = chartSeries(report)
        return result
    }

    /// Equity buckets of the PDF's charts (`MinMaxSampler`, at most four points each).
    static let chartBuckets = 1000

    /// The PDF export's equity series when the report's curve is sampled (more than
    /// `maxEquityPoints` bars; nil otherwise): `[[time, equity], ...]` like `equity_curve`, but
    /// keeping each bucket's lowest and highest mark, so the drawdown chart reaches the report's
    /// max drawdown. Stored beside the report (`<prefix>job:<id>:chart`); the report itself is
    /// unchanged.
    static func chartSeries(_ report: BacktestReport) -> String? {
        let n = min(report.equity.count, report.equityTimes.count)
        guard n > maxEquityPoints else { return nil }
        let kept = MinMaxSampler.indices(Array(report.equity.prefix(n)), buckets: chartBuckets)
        return JSONCodec.encodeString(
            .array(
                kept.map { i in
                    .array([.string(RFC3339.format(milliseconds: report.equityTimes[i])), .double(report.equity[i])])
                }))
    }

    /// The report's equity curve, at most `maxEquityPoints` points.
    private static func sampledCurve(_ report: BacktestReport) -> JSONValue {
        let n = min(report.equity.count, report.equityTimes.count)
        var curve: [JSONValue] = []
        for i in sampleIndices(count: n, max: maxEquityPoints) {
            curve.append(.array([.string(RFC3339.format(milliseconds: report.equityTimes[i])), .number(report.equity[i])]))
        }
        return .array(curve)
    }

    /// The outcome: the report encoded once for storage, and the value the `completed` frame
    /// carries rounded as that encoding rounds it, so the frame and a later `backtest.report`
    /// hold the very same numbers.
    static func outcome(_ value: JSONValue, csv: String) -> JobOutcome {
        JobOutcome(report: value.roundTripped(), json: JSONCodec.encodeString(value), csv: csv)
    }

    /// `count` indices spread evenly over `0..<n`, first and last included (all when n ≤ count).
    static func sampleIndices(count n: Int, max m: Int) -> [Int] {
        guard n > m, m >= 2 else { return Array(0..<n) }
        return (0..<m).map { k in Int((Double(k) * Double(n - 1) / Double(m - 1)).rounded()) }
    }

    private static func header(_ request: JobRequest, _ spec: OptimizeSpec) -> [(String, JSONValue)] {
        var members: [(String, JSONValue)] = [("kind", "optimize"), ("strategy_name", .string(request.strategy))]
        switch spec.method {
        case .grid: members.append(("method", "grid"))
        case let .random(trials, seed), let .bayesian(trials, seed):
            members += [
                ("method", .string(spec.methodName)), ("trials", .int(Int64(trials))),
                ("seed", .int(Int64(bitPattern: seed))),
            ]
        }
        members.append(("walk_forward", spec.walkForward.map { .int(Int64($0)) } ?? .null))
        members.append(
            (
                "fixed_parameters",
                .object(JSONObject(request.parameters.sorted { $0.key < $1.key }.map { ($0.key, .double($0.value)) }))
            ))
        return members
    }

    static func optimization(
        _ result: OptimizationResult, request: JobRequest, spec: OptimizeSpec
    ) -> (value: JSONValue, csv: String) {
        let body = result.jsonValue().objectValue ?? [:]
        let value = JSONValue.object(JSONObject(header(request, spec) + body.members.map { ($0.key, $0.value) }))
        let names = Array(Set(result.ranked.flatMap { $0.parameters.keys })).sorted()
        var lines = [(["rank"] + names + ["score"] + optimizationColumns).joined(separator: ",")]
        for (i, run) in result.ranked.enumerated() {
            var cells = ["\(i + 1)"] + names.map { run.parameters[$0].map(TextFormat.plain) ?? "" }
            cells.append(run.score.map(TextFormat.plain) ?? "")
            for column in optimizationColumns {
                cells.append(((try? run.report?.metric(named: column)) ?? nil).map(TextFormat.plain) ?? "")
            }
            lines.append(cells.joined(separator: ","))
        }
        return (value, lines.joined(separator: "\n") + "\n")
    }

    static func walkForward(
        _ result: WalkForwardResult, request: JobRequest, spec: OptimizeSpec
    ) -> (value: JSONValue, csv: String) {
        let body = result.jsonValue().objectValue ?? [:]
        let value = JSONValue.object(JSONObject(header(request, spec) + body.members.map { ($0.key, $0.value) }))
        let names = Array(Set(result.ranking.flatMap { $0.parameters.keys })).sorted()
        var lines = [(["rank"] + names + ["folds_won", "mean_out_of_sample", "mean_in_sample"]).joined(separator: ",")]
        for (i, c) in result.ranking.enumerated() {
            var cells = ["\(i + 1)"] + names.map { c.parameters[$0].map(TextFormat.plain) ?? "" }
            cells.append(c.foldsWon.map { "\($0 + 1)" }.joined(separator: " "))
            cells.append(c.meanOutOfSample.map(TextFormat.plain) ?? "")
            cells.append(c.meanInSample.map(TextFormat.plain) ?? "")
            lines.append(cells.joined(separator: ","))
        }
        return (value, lines.joined(separator: "\n") + "\n")
    }
}
