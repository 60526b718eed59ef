import JSONCodec

/// The headline metrics of a finished job's report, kept in the job's hash (`metrics`) so the
/// job history (`backtest.jobs`) shows them without reading whole reports:
///
/// | kind | metrics |
/// |---|---|
/// | backtest | `roi`, `sharpe_ratio`, `max_drawdown`, `win_rate`, `total_trades`, `profit_factor`, `final_balance` |
/// | optimize | `metric`, `score` and `parameters` of the best set, with its `roi`, `sharpe_ratio`, `max_drawdown`, `win_rate`, `total_trades`, and `evaluated`; walk-forward: `metric`, the best set's `parameters`, `mean_out_of_sample`, `mean_in_sample`, `folds` |
/// | train | `model` (`name@version`) and the model's own `metrics` members |
enum JobHeadline {
    /// Report fields copied for a backtest (and for an optimisation's best set).
    static let backtestKeys = [
        "roi", "sharpe_ratio", "max_drawdown", "win_rate", "total_trades", "profit_factor", "final_balance",
    ]
    /// Fields of an optimisation's best set copied into its headline.
    static let bestSetKeys = ["score", "parameters", "roi", "sharpe_ratio", "max_drawdown", "win_rate", "total_trades"]

    /// The headline of `report` (a job of `kind`), nil when it has none.
    static func metrics(kind: JobKind, report: JSONValue) -> JSONValue? {
        guard let object = report.objectValue else { return nil }
        switch kind {
        case .backtest:
            return pick(object, backtestKeys)
        case .optimize:
            var members: [(String, JSONValue)] = [("metric", object["metric"] ?? .null)]
            if let best = object["results"]?.arrayValue?.first?.objectValue {
                members += bestSetKeys.compactMap { key in best[key].map { (key, $0) } }
                members.append(("evaluated", object["evaluated"] ?? .null))
            } else if let best = object["ranking"]?.arrayValue?.first?.objectValue {
                members += ["parameters", "mean_out_of_sample", "mean_in_sample"].compactMap { key in
                    best[key].map { (key, $0) }
                }
                members.append(("folds", .int(Int64(object["folds"]?.arrayValue?.count ?? 0))))
            } else {
                return nil
            }
            return .object(JSONObject(members))
        case .train:
            guard let model = object["model"]?.objectValue else { return nil }
            var members: [(String, JSONValue)] = []
            if let name = model["name"]?.stringValue, let version = model["version"]?.intValue {
                members.append(("model", .string("\(name)@\(version)")))
            }
            if let metrics = model["metrics"]?.objectValue {
                members += metrics.members.map { ($0.key, $0.value) }
            }
            return members.isEmpty ? nil : .object(JSONObject(members))
        }
    }

    private static func pick(_ object: JSONObject, _ keys: [String]) -> JSONValue {
        .object(JSONObject(keys.compactMap { key in object[key].map { (key, $0) } }))
    }
}
