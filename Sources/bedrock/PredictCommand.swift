import ArgumentParser
import TradingCore

/// `bedrock predict`: scores every row of a features CSV with an XGBoost JSON model (Bedrock's
/// own evaluator, no Python), one probability per row.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Score a features CSV with an XGBoost JSON model.",
        discussion: """
            The model: XGBoost JSON (Booster.save_model("m.json") or bedrock train), objective \
            binary:logistic, booster gbtree, the features of docs/ML_FEATURES.md in order. \
            Output: CSV with header time,probability, one line per input row.
            Example: bedrock predict --model model.json --features features.csv --out p.csv
            """)

    @Option(help: "XGBoost JSON model file.")
    var model: String

    @Option(help: "Features CSV (bedrock features).")
    var features: String

    @Option(help: "Output CSV (default: stdout).")
    var out: String?

    func run() throws {
        let ensemble: TreeEnsemble
        do { ensemble = try TreeEnsemble(jsonText: try ModelCLI.read(model, what: "model")) } catch let error as ModelFormatError
        {
            throw TradingCLI.failure("\(model): \(error)")
        }
        let rows = try ModelCLI.features(features)
        var text = "time,probability\n"
        for row in rows {
            text += RFC3339.format(milliseconds: row.time)
            text += ",\(ensemble.probability(row.features))\n"
        }
        try ModelCLI.write(text, to: out)
    }
}
