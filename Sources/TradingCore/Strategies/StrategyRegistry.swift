/// One registered strategy: its name, parameters and how to make and run it.
public struct StrategyDescriptor: Sendable {
    /// Registry name (`pullback`, `oops`, `sma_cross`).
    public let name: String
    /// Parameters with defaults and valid ranges.
    public let parameterSpecs: [ParameterSpec]
    /// Whether its entries carry a stop (`Strategy.entriesHaveStops`).
    public let entriesHaveStops: Bool
    private let factory: @Sendable (StrategyParameters) throws -> any Strategy
    /// Runs a backtest with the concrete strategy type (specialised engine).
    let runBacktest:
        @Sendable (
            BarSeries, StrategyParameters, BacktestConfig,
            (BacktestProgress) -> Bool
        ) throws -> BacktestResult

    /// Describes strategy type `S`.
    public init<S: Strategy>(_ type: S.Type) {
        name = S.name
        parameterSpecs = S.parameterSpecs
        entriesHaveStops = S.entriesHaveStops
        factory = { try S(parameters: $0) }
        runBacktest = { series, parameters, config, progress in
            let strategy = try S(parameters: parameters)
            return try Backtester.run(
                series: series, strategy: strategy, parameters: parameters.values,
                config: config, progress: progress)
        }
    }

    /// Validates raw parameters (unknown names and out-of-range values refused) and fills defaults.
    public func resolve(_ raw: [String: Double]) throws -> StrategyParameters {
        try ParameterSpec.resolve(raw, specs: parameterSpecs, strategy: name)
    }

    /// Creates a fresh strategy from raw parameters.
    public func make(_ raw: [String: Double] = [:]) throws -> any Strategy {
        try factory(resolve(raw))
    }

    /// Feeds every bar of `series` to a fresh strategy, in order, and returns its decision on the last
    /// bar (`.hold` for an empty series). This is how live signal generation runs a strategy on the
    /// latest bars; `now` is the decision clock for the last bar (default: its open time).
    public func latestDecision(_ raw: [String: Double] = [:], series: BarSeries, now: Int64? = nil) throws -> StrategyDecision {
        var strategy = try make(raw)
        var decision = StrategyDecision.hold
        for i in 0..<series.count {
            let bar = series[i]
            decision = strategy.onBar(bar, now: i == series.count - 1 ? (now ?? bar.time) : bar.time)
        }
        return decision
    }
}

/// The strategies the gateway and the CLI know by name.
public enum StrategyRegistry {
    /// Every registered strategy, in name order.
    public static let all: [StrategyDescriptor] = [
        StrategyDescriptor(OopsStrategy.self),
        StrategyDescriptor(PullbackStrategy.self),
        StrategyDescriptor(SMACrossStrategy.self),
    ]

    /// Registered names.
    public static var names: [String] { all.map(\.name) }

    /// The descriptor called `name`, or `StrategyError.unknownStrategy` listing the valid names.
    public static func descriptor(named name: String) throws -> StrategyDescriptor {
        guard let d = all.first(where: { $0.name == name }) else {
            throw StrategyError.unknownStrategy(name: name, known: names)
        }
        return d
    }

    /// Creates strategy `name` from raw parameters (validated, defaults filled).
    public static func make(name: String, parameters: [String: Double] = [:]) throws -> any Strategy {
        try descriptor(named: name).make(parameters)
    }
}
