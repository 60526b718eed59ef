/// Everything one backtest produced; the input of the metrics and the report.
///
/// Money invariant (checked in tests): `finalBalance == initialBalance + Σ trades[k].pnl`, summed in
/// trade order, where each `Trade.pnl` is net of the commission of both legs and prices include
/// slippage. Hence also `finalBalance = initial + Σ gross pnl − totalCommission`.
public struct BacktestResult: Sendable {
    /// Registry name of the strategy.
    public var strategyName: String
    /// The complete parameter set used (defaults filled in).
    public var parameters: [String: Double]
    /// The run's configuration.
    public var config: BacktestConfig
    /// Starting cash.
    public var initialBalance: Double
    /// Cash after the last bar, every position closed (`END_OF_DATA` at the last close).
    public var finalBalance: Double
    /// Closed round trips in exit order.
    public var trades: [Trade]
    /// Signal type of each trade, parallel to `trades`.
    public var tradeSignalTypes: [SignalType]
    /// Equity curve times: one point per bar, the bar's open time (ms since epoch).
    public var equityTimes: [Int64]
    /// Equity marked to market at each bar's close, parallel to `equityTimes`. The last point is
    /// after the end-of-data close, so it equals `finalBalance`.
    public var equityValues: [Double]
    /// Σ commission over all fills.
    public var totalCommission: Double
    /// Σ slippage cost over all fills, in quote currency.
    public var totalSlippage: Double
    /// Bars at whose close a position was open (for exposure).
    public var barsInPosition: Int
    /// Bars processed.
    public var barCount: Int
    /// Entry signals the strategy emitted.
    public var signalsGenerated: Int
    /// Entry signals the run's scorer scored (0 without a scorer).
    public var scoredSignals: Int
    /// Entry signals the risk guard or sizing refused, by reason code.
    public var rejectedSignals: [String: Int]
    /// Open time of the first bar (ms), 0 with no bars.
    public var startTime: Int64
    /// Open time of the last bar (ms), 0 with no bars.
    public var endTime: Int64

    /// Share of bars spent in a position, in percent.
    public var exposurePct: Double { barCount == 0 ? 0 : Double(barsInPosition) * 100 / Double(barCount) }

    /// Creates a result (used by the backtester and by tests of the metrics).
    public init(
        strategyName: String, parameters: [String: Double], config: BacktestConfig,
        initialBalance: Double, finalBalance: Double, trades: [Trade], tradeSignalTypes: [SignalType] = [],
        equityTimes: [Int64], equityValues: [Double], totalCommission: Double, totalSlippage: Double,
        barsInPosition: Int, barCount: Int, signalsGenerated: Int = 0, scoredSignals: Int = 0,
        rejectedSignals: [String: Int] = [:],
        startTime: Int64, endTime: Int64
    ) {
        self.strategyName = strategyName; self.parameters = parameters; self.config = config
        self.initialBalance = initialBalance; self.finalBalance = finalBalance; self.trades = trades
        self.tradeSignalTypes = tradeSignalTypes; self.equityTimes = equityTimes
        self.equityValues = equityValues; self.totalCommission = totalCommission
        self.totalSlippage = totalSlippage; self.barsInPosition = barsInPosition; self.barCount = barCount
        self.signalsGenerated = signalsGenerated; self.scoredSignals = scoredSignals
        self.rejectedSignals = rejectedSignals
        self.startTime = startTime; self.endTime = endTime
    }
}

/// Why a backtest stopped without a result.
public enum BacktestError: Error, Equatable, CustomStringConvertible {
    /// The progress closure returned false after `processedBars` bars.
    case cancelled(processedBars: Int)
    /// The series has no bars.
    case noData

    /// One line for users.
    public var description: String {
        switch self {
        case let .cancelled(n): return "backtest cancelled after \(n) bars"
        case .noData: return "no bars to backtest"
        }
    }
}

/// Progress report passed to the progress closure.
public struct BacktestProgress: Sendable, Equatable {
    /// Bars processed so far.
    public var processedBars: Int
    /// Bars in the run.
    public var totalBars: Int
    /// processedBars / totalBars, 0...1.
    public var fraction: Double { totalBars == 0 ? 1 : Double(processedBars) / Double(totalBars) }
}

/// Runs strategies over bar series with the fill rules and costs of SPEC §8.
public enum Backtester {
    /// Reason counted in `rejectedSignals` for entries the arbiter rejected.
    public static let arbiterRejected = "ARBITER_REJECTED"

    /// Runs the registered strategy `strategyName` with `parameters` (validated; defaults filled) over
    /// `series`. `progress` is called every `config.progressInterval` bars; returning false cancels
    /// the run with `BacktestError.cancelled`. Throws `StrategyError` for a bad name or parameter.
    public static func run(
        series: BarSeries, strategyName: String, parameters: [String: Double] = [:],
        config: BacktestConfig = BacktestConfig(),
        progress: (BacktestProgress) -> Bool = { _ in true }
    ) throws -> BacktestResult {
        let descriptor = try StrategyRegistry.descriptor(named: strategyName)
        let resolved = try ParameterSpec.resolve(
            parameters, specs: descriptor.parameterSpecs,
            strategy: descriptor.name)
        return try descriptor.runBacktest(series, resolved, config, progress)
    }

    /// Runs an already created strategy over `series` (generic, so the per-bar calls are specialised).
    public static func run<S: Strategy>(
        series: BarSeries, strategy: S, parameters: [String: Double] = [:],
        config: BacktestConfig = BacktestConfig(),
        progress: (BacktestProgress) -> Bool = { _ in true }
    ) throws -> BacktestResult {
        var engine = BacktestEngine(strategy: strategy, series: series, config: config)
        return try engine.run(strategyName: S.name, parameters: parameters, progress: progress)
    }
}
