import JSONCodec
import TradingCore

/// The ML fields of `backtest.submit` / `optimize.submit` (SPEC §11):
///
/// | field | valid values | default |
/// |---|---|---|
/// | `ml_model` | `"name@version"`: a model name (letters, digits, `_`, `-`, `.`, at most 64, starting with a letter or digit) and a version number ≥ 1 | none (rules only) |
/// | `compare` | `["rules_only"]` (with `ml_model`): the same run without the model beside it in the report | none |
extension JobRequest {
    /// A model reference `name@version`, nil when `text` is not one.
    static func modelReference(_ text: String) -> String? {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let first = parts[0].first, first.isASCII && (first.isLetter || first.isNumber),
            parts[0].count <= 64,
            parts[0].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") }),
            parts[1].count <= 9, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let version = Int(parts[1]),
            version >= 1
        else { return nil }
        return "\(parts[0])@\(version)"
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
