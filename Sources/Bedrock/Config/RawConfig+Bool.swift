import Foundation
import JSONCodec

extension RawConfig {
    /// A boolean: JSON `true`/`false` in a file; `true`/`false` (or `1`/`0`, any case) as text from
    /// the environment or a flag. Anything else (a quoted word in a file, a number, `yes`) is refused.
    func bool(_ key: String, default d: Bool) throws(ConfigError) -> Bool {
        guard let (v, source) = values[key] else { return d }
        if let b = v.boolValue { return b }
        switch source {
        case .environment, .flag:
            switch v.stringValue?.trimmingCharacters(in: .whitespaces).lowercased() {
            case "true", "1": return true
            case "false", "0": return false
            default: break
            }
        case .file, .defaultValue: break
        }
        throw ConfigError(key: key, message: "must be true or false, got \(RawConfig.render(v))", source: source)
    }
}
