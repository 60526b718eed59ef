import JSONCodec
import TradingCore

/// `engine.deploy`'s rule (pure): the parameter set ranked `rank` in an optimisation report
/// becomes part of the live configuration.
///
/// - Strategy parameters (keys without a dot) replace the parameters of the report's strategy on
///   the job's market: an entry of that strategy running on every market (`"*"`) or on that
///   market alone takes them; an entry running on several named markets keeps the others and a
///   new entry for the job's market is added; with no entry on that market, one is added (on
///   every market when the job ran on a dataset file).
/// - `arbiter.rule_weight|ml_weight|llm_weight|threshold` replace the arbiter's.
/// - Anything else (`risk_per_trade`: the risk guard is not part of the engine configuration)
///   is listed in `ignored`.
public enum EngineDeployment {
    /// What a deployment changes and what it leaves out.
    public struct Outcome: Sendable, Equatable {
        /// The configuration with the deployed set.
        public var config: EngineConfiguration
        /// Keys of the parameter set not deployed.
        public var ignored: [String]
        /// What the trader should know about where the set now applies.
        public var warnings: [String] = []
    }

    /// Applies result `rank` (1-based) of `report` (the stored optimisation report) from the job
    /// that ran on `market` (nil: a dataset file) to `config`; `job` is the job's summary
    /// (`interval`, `ml_model`), for the warnings and the source.
    public static func apply(
        report: JSONObject, market: String?, rank: Int, taskID: String, to config: EngineConfiguration,
        job: JSONObject = [:]
    ) throws(EngineConfigError) -> Outcome {
        guard let strategy = report["strategy_name"]?.stringValue else {
            throw EngineConfigError(field: "task_id", message: "\(taskID) is not an optimisation report")
        }
        let ranked = (report["results"] ?? report["ranking"])?.arrayValue ?? []
        guard !ranked.isEmpty else {
            throw EngineConfigError(field: "task_id", message: "\(taskID) ranked no parameter set (every candidate failed)")
        }
        guard (1...ranked.count).contains(rank) else {
            throw EngineConfigError(field: "rank", message: "must be from 1 to \(ranked.count), got \(rank)")
        }
        guard let set = ranked[rank - 1]["parameters"]?.objectValue else {
            throw EngineConfigError(field: "rank", message: "result \(rank) of \(taskID) has no parameters")
        }
        var params: [String: Double] = [:]
        var arbiter: [(String, JSONValue)] = []
        var ignored: [String] = []
        for (key, value) in set.members {
            if key.hasPrefix("arbiter.") {
                arbiter.append((String(key.dropFirst("arbiter.".count)), value))
            } else if !key.contains("."), key != "risk_per_trade", let d = value.doubleValue {
                params[key] = d
            } else {
                ignored.append(key)
            }
        }
        var next = config
        next.strategies = placed(LiveStrategy(name: strategy, parameters: params), market: market, in: config.strategies)
        if !arbiter.isEmpty { next.arbiter = try EngineConfiguration.parseArbiter(.object(arbiter), over: config.arbiter) }
        // The same checks as engine.configure (unknown strategy or parameter, ranges, clashes).
        next = try next.applying(["strategies": .array(next.strategies.map(\.jsonValue))])
        var source: JSONObject = ["task_id": .string(taskID), "rank": .int(Int64(rank)), "strategy": .string(strategy)]
        if let market { source["market"] = .string(market) }
        if let interval = job["interval"]?.stringValue { source["interval"] = .string(interval) }
        next.source = source
        var warnings: [String] = []
        if let market, next.strategies.contains(where: { $0.name == strategy && $0.markets == nil }) {
            warnings.append(
                "\(strategy) runs on every market (\"*\"): the parameters found on \(market) now apply to all of them")
        }
        if let interval = job["interval"]?.stringValue {
            warnings.append("the search ran on \(interval) bars; the live strategy decides on every interval of its markets")
        }
        if let model = job["ml_model"]?.stringValue {
            warnings.append("the search scored signals with \(model); live signals are scored by the deployed models")
        }
        return Outcome(config: next, ignored: ignored.sorted(), warnings: warnings)
    }

    /// `strategies` with `deployed` (its parameters) placed on `market` (nil: every market).
    static func placed(_ deployed: LiveStrategy, market: String?, in strategies: [LiveStrategy]) -> [LiveStrategy] {
        var out = strategies
        guard let market else {
            let matches = out.indices.filter { out[$0].name == deployed.name }
            if matches.isEmpty { out.append(deployed) }
            for i in matches { out[i].parameters = deployed.parameters }
            return out
        }
        if let i = out.firstIndex(where: { $0.name == deployed.name && $0.runs(on: market) }) {
            if out[i].markets == nil || out[i].markets == [market] {
                out[i].parameters = deployed.parameters
                return out
            }
            out[i].markets?.remove(market)
        }
        out.append(LiveStrategy(name: deployed.name, parameters: deployed.parameters, markets: [market]))
        return out
    }
}
