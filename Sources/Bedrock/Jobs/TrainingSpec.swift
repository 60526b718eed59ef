import JSONCodec
import TradingCore

/// The model part of a `training.submit` job (SPEC §11).
///
/// | field | valid values | default |
/// |---|---|---|
/// | `model_name` | `[A-Za-z0-9_.-]`, 1–64 characters: the registry name the new version is filed under | required |
/// | `hyperparameters` | object: `trees`, `depth`, `learning_rate`, `min_child_weight`, `lambda`, `max_bins`, `early_stopping_rounds`, `validation_fraction`, `seed` (`GBTHyperparameters`) | the trainer's defaults |
/// | `folds` | walk-forward folds 1–20 | 5 |
///
/// The strategy, its `params`, the data (`dataset` or `market` + `interval`, dates) and the costs
/// (`commission`, `slippage`, which decide the labels) are read as for a backtest.
public struct TrainingSpec: Sendable {
    /// Registry name of the model.
    public var modelName: String
    /// The trainer's settings.
    public var hyperparameters: GBTHyperparameters
    /// Walk-forward folds.
    public var folds: Int

    /// Reads `model_name`, `hyperparameters` and `folds`; each refusal names the field.
    static func parse(_ p: JobParams) throws -> TrainingSpec {
        guard let name = try p.string("model_name") else {
            throw APIError(.badRequest, "model_name is required: the registry name of the new model version")
        }
        guard ModelRegistry.isValidName(name) else {
            throw APIError(.badRequest, "model_name must be \(ModelRegistry.nameRule)")
        }
        var hyperparameters = GBTHyperparameters()
        if let raw = p.value("hyperparameters"), !raw.isNull {
            guard let object = raw.objectValue else {
                throw APIError(.badRequest, "hyperparameters must be an object, e.g. {\"trees\":200,\"depth\":6}")
            }
            do {
                hyperparameters = try GBTHyperparameters(
                    json: Dictionary(object.members.map { ($0.key, $0.value) }) { a, _ in a })
            } catch {
                throw APIError(.badRequest, "hyperparameters: \(error.message)")
            }
        }
        let folds = try p.int("folds", default: 5, 1...20)!
        return TrainingSpec(modelName: name, hyperparameters: hyperparameters, folds: folds)
    }
}
