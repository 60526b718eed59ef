import ArgumentParser
import Foundation
import TradingCore

/// `bedrock features` (SPEC §11): runs a strategy over a market-data file and writes one CSV row per
/// entry signal: its time, market, type, label (1 when its own trade wins) and feature columns.
struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Write the ML features and labels of a strategy's signals as CSV.",
        discussion: """
            Columns: time, market, signal_type, label, then \(MLFeatures.names.joined(separator: ", ")) \
            (docs/ML_FEATURES.md). The market is the data file's name up to its first '-' or '.' \
            (BTCUSDT-1h.csv → BTCUSDT). A label is 1 when the signal's own trade, taken with the \
            backtester's fill and exit rules and costs, closes with net pnl > 0; signals whose entry \
            never fills are left out. Missing values are empty fields.
            Example: bedrock features --data BTCUSDT-1h.csv --strategy pullback --out features.csv
            """)

    @OptionGroup var configOptions: ConfigOptions

    @Option(help: "Market data CSV (SPEC §9).")
    var data: String

    @Option(help: "Strategy name.")
    var strategy: String

    @Option(name: .customLong("param"), help: "Strategy parameter as name=value (repeatable).")
    var params: [String] = []

    @Option(help: "Output CSV file.")
    var out: String

    @OptionGroup var costs: CostOptions

    func run() throws {
        let descriptor = try TradingCLI.strategy(strategy)
        let parameters = try TradingCLI.parameters(params)
        let warmup = try TradingCLI.validate(parameters, for: descriptor)
        guard !out.isEmpty else { throw TradingCLI.usageError("--out must name a file") }
        let config = try costs.config()
        let signals = try TrainingDataOptions.signals(
            data, strategy: descriptor, parameters: parameters, warmup: warmup, config: config)
        let text = FeatureCSV.write(rows: FeatureCSV.rows(signals, market: FeatureCSV.market(fromPath: data)))
        guard FileManager.default.createFile(atPath: out, contents: Data(text.utf8)) else {
            throw TradingCLI.failure("cannot write \(out)")
        }
        let wins = signals.reduce(0) { $0 + Int($1.label) }
        FileHandle.standardError.write(
            Data("bedrock features: \(signals.count) signals (\(wins) winning) from \(data) → \(out)\n".utf8))
    }
}
