import JSONCodec

/// Backtests with an ML model beside the same backtest on rules only (SPEC §11 `"compare"`).
extension Backtester {
    /// The report of one backtest of `strategyName` and, when `compareRulesOnly` and `config` has a
    /// scorer, of the same backtest without it, under `compare["rules_only"]`. `progress` sees
    /// both runs as one (twice the bars). Throws like `run`.
    public static func report(
        series: BarSeries, strategyName: String, parameters: [String: Double] = [:],
        config: BacktestConfig, compareRulesOnly: Bool,
        progress: (BacktestProgress) -> Bool = { _ in true }
    ) throws -> BacktestResultReport {
        let twice = compareRulesOnly && config.scorer != nil
        let total = series.count * (twice ? 2 : 1)
        let result = try run(series: series, strategyName: strategyName, parameters: parameters, config: config) {
            progress(BacktestProgress(processedBars: $0.processedBars, totalBars: total))
        }
        var report = BacktestReport(result)
        if twice {
            let rules = try run(
                series: series, strategyName: strategyName, parameters: parameters, config: config.rulesOnly
            ) { progress(BacktestProgress(processedBars: series.count + $0.processedBars, totalBars: total)) }
            report.compare[MLComparison.rulesOnly] = BacktestReport(rules)
        }
        return BacktestResultReport(result: result, report: report)
    }
}

/// A backtest's result (for its counters) and its report with any compared run.
public struct BacktestResultReport: Sendable {
    /// The run with the model (or the only run).
    public var result: BacktestResult
    /// Its report, `compare` filled when asked for.
    public var report: BacktestReport
}

/// The `ml_model` and `compare` members of optimisation reports.
public enum MLComparison {
    /// The one comparison there is: the same run without the ML model.
    public static let rulesOnly = "rules_only"

    /// `value` (a JSON object) with `"ml_model"` (the name or null) appended and, when given, a
    /// `"compare": {"rules_only": rulesOnly}` member.
    public static func annotate(_ value: JSONValue, mlModel: String?, rulesOnly: JSONValue?) -> JSONValue {
        guard case .object(var members) = value else { return value }
        members["ml_model"] = mlModel.map { .string($0) } ?? .null
        if let rulesOnly { members["compare"] = .object([(Self.rulesOnly, rulesOnly)]) }
        return .object(members)
    }
}
