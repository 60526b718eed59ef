import JSONCodec
import TradingCore

/// What a job computes.
public enum JobKind: String, Sendable, CaseIterable {
    /// One backtest (`backtest.submit`).
    case backtest
    /// A parameter search, optionally walk-forward (`optimize.submit`).
    case optimize
    /// Training an ML confidence model on a strategy's signals (`training.submit`).
    case train
}

/// The life of a job (SPEC §4). PENDING → RUNNING → COMPLETED | FAILED | CANCELLED; a PENDING
/// job may also go straight to CANCELLED or FAILED (`interrupted`).
public enum JobStatus: String, Sendable, CaseIterable {
    case pending = "PENDING"
    case running = "RUNNING"
    case completed = "COMPLETED"
    case failed = "FAILED"
    case cancelled = "CANCELLED"

    /// True once the job can change no more.
    public var isFinal: Bool { self == .completed || self == .failed || self == .cancelled }
}

/// Where a job's bars come from.
public enum JobDataSource: Sendable, Equatable {
    /// `kline.closed` events of `<prefix>stream:klines:{market}:{interval}`, bars whose open time
    /// lies in `[start, end]` (ms, inclusive; nil = open).
    case market(market: String, interval: String, start: Int64?, end: Int64?)
    /// A market-data file (SPEC §9) inside the datasets directory: `path` is the resolved file,
    /// `name` what the client sent; bars filtered to `[start, end]` like a market.
    case dataset(name: String, path: String, start: Int64?, end: Int64?)
}

/// The search part of an optimisation job.
public struct OptimizeSpec: Sendable {
    /// The searched ranges, as given.
    public var ranges: [ParameterRange]
    /// Grid, random or Bayesian.
    public var method: SearchMethod
    /// The metric ranked by (`BacktestReport.metricNames`).
    public var metric: String
    /// Walk-forward folds, or nil for one search over all the bars.
    public var walkForward: Int?
    /// The parameter sets to evaluate (fixed `params` merged in); empty for a Bayesian search,
    /// which proposes them as it goes.
    public var candidates: [[String: Double]]
    /// Largest warm-up (bars) among the valid candidates (a Bayesian search: among the corners
    /// of the space).
    public var warmup: Int

    /// Parameter sets one search evaluates (a Bayesian search: its trial budget).
    public var setsPerSearch: Int {
        if case .bayesian(let trials, _) = method { return trials }
        return candidates.count
    }

    /// `grid`, `random` or `bayesian`.
    public var methodName: String {
        switch method {
        case .grid: return "grid"
        case .random: return "random"
        case .bayesian: return "bayesian"
        }
    }
}

/// A validated job: everything a worker needs, nothing left to check but the data itself.
public struct JobRequest: Sendable {
    /// Backtest or optimisation.
    public var kind: JobKind
    /// A registered strategy name.
    public var strategy: String
    /// Fixed strategy parameters (validated).
    public var parameters: [String: Double]
    /// The bars.
    public var data: JobDataSource
    /// Balance, costs, risk guard and arbiter.
    public var config: BacktestConfig
    /// The search, for `optimize`.
    public var optimize: OptimizeSpec?
    /// The model to train, for `train`.
    public var training: TrainingSpec? = nil
    /// Bars the strategy needs before it can trade (its warm-up).
    public var warmup: Int
    /// A short description stored with the job (strategy, data, dates), for status answers.
    public var summary: JSONObject
    /// The registry model (`name@version`) scoring the entry signals, nil for rules only.
    public var mlModel: String? = nil
    /// Whether the report adds the same run without the model (`compare: ["rules_only"]`).
    public var compareRulesOnly = false
}
