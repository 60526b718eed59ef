import ArgumentParser
import TradingCore

/// Balance and costs: what every fill of a backtest, or of the trades that label ML signals, is
/// charged (`bedrock backtest`, `optimize`, `features`, `train --data`).
struct CostOptions: ParsableArguments {
    @Option(help: "Initial balance (quote currency).")
    var balance: Double = 10_000

    @Option(help: "Commission rate per fill, as a fraction of notional (0.001 = 0.1 %).")
    var commission: Double = 0.001

    @Option(help: "Slippage rate per fill, as a fraction of price.")
    var slippage: Double = 0

    /// The settings with these costs; exit 2 on negative or non-finite values.
    func config(riskGuard: Bool = true, arbiter: Bool = true) throws -> BacktestConfig {
        try TradingCLI.config(
            balance: balance, commission: commission, slippage: slippage, riskGuard: riskGuard, arbiter: arbiter)
    }
}

/// Balance, costs and the as-live switches shared by `bedrock backtest` and `bedrock optimize`.
struct BacktestCostOptions: ParsableArguments {
    @OptionGroup var costs: CostOptions

    @Flag(name: .customLong("no-risk-guard"), help: "Turn the risk guard off (it applies as live by default).")
    var noRiskGuard = false

    @Flag(
        name: .customLong("no-arbiter"),
        help: "Take every entry signal (by default the arbiter rejects those scoring under its threshold, as live).")
    var noArbiter = false

    /// The backtest settings; exit 2 on negative or non-finite values.
    func config() throws -> BacktestConfig {
        try costs.config(riskGuard: !noRiskGuard, arbiter: !noArbiter)
    }
}
