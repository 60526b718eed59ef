import ArgumentParser
import Foundation
import TradingCore

/// `--ml-model` and `--compare` of `bedrock backtest` and `bedrock optimize` (SPEC §11).
struct MLModelOptions: ParsableArguments {
    @Option(
        name: .customLong("ml-model"),
        help: "XGBoost JSON model scoring every entry signal: probability × 100 is the arbiter's ML score.")
    var mlModel: String?

    @Option(help: "Also run without the model and report it beside: rules_only.")
    var compare: String?

    /// True when the rules-only run is asked for; exit 2 for another value or without a model.
    func comparesRulesOnly() throws -> Bool {
        guard let compare else { return false }
        guard compare == MLComparison.rulesOnly else {
            throw TradingCLI.usageError("--compare '\(compare)' is not valid; valid: \(MLComparison.rulesOnly)")
        }
        guard mlModel != nil else { throw TradingCLI.usageError("--compare rules_only needs --ml-model") }
        return true
    }

    /// `config` with the model loaded as its scorer (named after the file); unchanged without
    /// `--ml-model`. Exit 1 when the file cannot be read or is not a fitting model.
    func apply(to config: BacktestConfig) throws -> BacktestConfig {
        guard let path = mlModel else { return config }
        guard config.arbiter != nil else {
            throw TradingCLI.usageError("--ml-model needs the arbiter (the model's score acts through it); drop --no-arbiter")
        }
        var out = config
        out.scorer = try Self.loadModel(path)
        out.mlModel = (path as NSString).lastPathComponent
        return out
    }

    /// The model in the XGBoost JSON file at `path`; exit 1 saying why it cannot be used.
    static func loadModel(_ path: String) throws -> any SignalScorer {
        let text = try ModelCLI.read(path, what: "model file")
        do { return try TreeEnsemble(jsonText: text) } catch { throw TradingCLI.failure("\(path): \(error)") }
    }
}
