import JSONCodec
import TradingCore

/// The ML fields of `backtest.submit` / `optimize.submit` (SPEC §11):
///
/// | field | valid values | default |
/// |---|---|---|
/// | `ml_model` | `"name@version"`: a model name as the registry takes it (1-64 of `A-Z a-z 0-9 _ . -`) and a version number ≥ 1 | none (rules only) |
/// | `compare` | `["rules_only"]` (with `ml_model`): the same run without the model beside it in the report | none |
extension JobRequest {
    /// A model reference `name@version` (the version without leading zeros), nil when `text` is
    /// not one by `ModelRegistry.parse(reference:)`.
    static func modelReference(_ text: String) -> String? {
        ModelRegistry.parse(reference: text).map { "\($0.name)@\($0.version)" }
    }

    /// `ml_model` and `compare`; `BAD_REQUEST` naming the field otherwise.
    static func modelFields(_ p: JobParams) throws -> (mlModel: String?, compareRulesOnly: Bool) {
        var model: String?
        if let text = try p.string("ml_model") {
            guard let reference = modelReference(text) else {
                throw APIError(.badRequest, "ml_model must be \"name@version\", e.g. \"pullback-btc@3\"; got \"\(text)\"")
            }
            model = reference
        }
        guard let value = p.value("compare") else { return (model, false) }
        guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue == MLComparison.rulesOnly }) else {
            throw APIError(.badRequest, "compare must be an array of run names; valid: [\"\(MLComparison.rulesOnly)\"]")
        }
        if !items.isEmpty && model == nil {
            throw APIError(.badRequest, "compare [\"\(MLComparison.rulesOnly)\"] needs ml_model")
        }
        return (model, !items.isEmpty)
    }
}
