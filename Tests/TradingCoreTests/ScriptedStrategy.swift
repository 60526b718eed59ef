@testable import TradingCore

/// A test strategy that returns pre-written decisions at given bar indices (0-based).
struct ScriptedStrategy: Strategy {
    static let name = "scripted"
    static let parameterSpecs: [ParameterSpec] = []
    var script: [Int: StrategyDecision] = [:]
    private var index = 0
    var warmupBars: Int { 0 }

    init(parameters: StrategyParameters) throws {}
    init(_ script: [Int: StrategyDecision]) { self.script = script }

    mutating func onBar(_ bar: Bar, now: Int64) -> StrategyDecision {
        defer { index += 1 }
        return script[index] ?? .hold
    }
}

let dayMs: Int64 = 86_400_000

/// Daily bars from (open, high, low, close) tuples, starting 2024-01-01.
func dailyBars(_ rows: [(Double, Double, Double, Double)]) -> BarSeries {
    BarSeries(
        bars: rows.enumerated().map { k, r in
            Bar(time: 1_704_067_200_000 + Int64(k) * dayMs, open: r.0, high: r.1, low: r.2, close: r.3, volume: 1000)
        })
}

/// A buy (or sell) entry with the given order, stop, target and trailing settings.
func entry(
    _ side: Side = .buy, order: EntryOrder = .market, price: Double = 100, stop: Double? = nil,
    target: Double? = nil, atr: Double? = nil, trail: Double? = nil, score: Double = 50
) -> StrategyDecision {
    .enter(
        EntrySignal(
            signalType: side == .buy ? .pullbackBuy : .oopsSell, side: side, order: order,
            entryPrice: price, stopLoss: stop, profitTarget: target, atr: atr,
            trailingATRMultiple: trail, score: score))
}

/// No costs, fixed 1 % risk sizing, no risk guard: sizes are balance × 1 % / R.
func plainConfig(commission: Double = 0, slippage: Double = 0) -> BacktestConfig {
    BacktestConfig(
        initialBalance: 10_000, commissionRate: commission, slippageRate: slippage,
        sizing: SizingConfig(riskPerTrade: 0.01, useSuggestedWeight: false), risk: nil)
}

func runScript(
    _ rows: [(Double, Double, Double, Double)], _ script: [Int: StrategyDecision],
    config: BacktestConfig = plainConfig()
) throws -> BacktestResult {
    try Backtester.run(series: dailyBars(rows), strategy: ScriptedStrategy(script), config: config)
}
