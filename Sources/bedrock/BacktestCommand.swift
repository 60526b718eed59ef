import ArgumentParser
import TradingCore

/// `bedrock backtest` (SPEC §2): runs one backtest of a registered strategy over a market-data
/// file and prints the report (text, JSON or CSV of the trades) on stdout.
struct BacktestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Run one backtest locally and print the report.",
        discussion: """
            Strategies: \(StrategyRegistry.names.joined(separator: ", ")). Fills, costs and metrics \
            follow SPEC §8: market orders fill at the next bar's open, commission and slippage \
            apply to every fill, open positions close at the last close (END_OF_DATA).
            Example: bedrock backtest --data btc-1h.csv --strategy sma_cross --param fast=10 \
            --param slow=20 --commission 0.001 --format json
            With --ml-model m.json every entry signal is scored by the model (its probability × 100 \
            is the arbiter's ML score); --compare rules_only adds the same run without the model.
            """)

    @OptionGroup var configOptions: ConfigOptions

    @Option(help: "Market data CSV (SPEC §9).")
    var data: String

    @Option(help: "Strategy name.")
    var strategy: String

    @Option(name: .customLong("param"), help: "Strategy parameter as name=value (repeatable).")
    var params: [String] = []

    @OptionGroup var costs: BacktestCostOptions

    @OptionGroup var model: MLModelOptions

    @Option(help: "Output format: text, json or csv (trades).")
    var format: BacktestFormat = .text

    func run() throws {
        let descriptor = try TradingCLI.strategy(strategy)
        let parameters = try TradingCLI.parameters(params)
        let warmup = try TradingCLI.validate(parameters, for: descriptor)
        let compare = try model.comparesRulesOnly()
        let config = try model.apply(to: costs.config())
        let series = try TradingCLI.load(data)
        try TradingCLI.requireBars(series, warmup: warmup, path: data, strategy: descriptor.name)
        let report: BacktestReport
        do {
            report = try Backtester.report(
                series: series, strategyName: descriptor.name, parameters: parameters, config: config,
                compareRulesOnly: compare
            ).report
        } catch {
            throw TradingCLI.failure(String(describing: error))
        }
        switch format {
        case .text: TradingCLI.output(report.text())
        case .json:
            report.writeJSON { TradingCLI.output($0) }
            TradingCLI.output("\n")
        case .csv: TradingCLI.output(report.csv())
        }
    }
}
