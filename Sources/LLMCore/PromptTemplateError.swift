/// Why a prompt template could not be loaded or rendered. Each case names the template and the
/// placeholder at fault, so a configuration mistake reads as one clear line.
public enum PromptTemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `{{` without a closing `}}`, or a name that is not `[a-z_][a-z0-9_]*`.
    case malformedPlaceholder(template: String, text: String)
    /// The template uses a placeholder no value was given for.
    case missingValue(template: String, placeholder: String)
    /// A value was given for a placeholder the template does not use.
    case unusedValue(template: String, name: String)
    /// The template does not use exactly its task's placeholders.
    case wrongPlaceholders(template: String, missing: [String], unknown: [String])

    /// One line for logs and startup errors.
    public var description: String {
        switch self {
        case .malformedPlaceholder(let template, let text):
            return "prompt template \(template): malformed placeholder \(text)"
        case .missingValue(let template, let placeholder):
            return "prompt template \(template): no value for placeholder {{\(placeholder)}}"
        case .unusedValue(let template, let name):
            return "prompt template \(template): value \(name) has no placeholder"
        case .wrongPlaceholders(let template, let missing, let unknown):
            return "prompt template \(template): missing placeholders \(missing), unknown placeholders \(unknown)"
        }
    }
}
