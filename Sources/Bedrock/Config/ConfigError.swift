/// Where a configuration value came from; named in error messages so an operator can find it.
public enum ConfigSource: Sendable, Equatable, CustomStringConvertible {
    /// The built-in default.
    case defaultValue
    /// A JSON configuration file (path as given).
    case file(String)
    /// An environment variable (its name, e.g. `BEDROCK_SERVER_PORT`).
    case environment(String)
    /// A command-line flag (e.g. `--data-dir`).
    case flag(String)

    public var description: String {
        switch self {
        case .defaultValue: return "built-in default"
        case let .file(path): return path
        case let .environment(name): return name
        case let .flag(name): return name
        }
    }
}

/// A configuration problem that refuses start-up. `description` is the one line to print, e.g.
/// `config: server.port: must be an integer 0-65535, got "abc" (from BEDROCK_SERVER_PORT)`.
///
/// Callers (`bedrock serve`, `bedrock token`) print `description` on stderr and exit 1.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The dotted key at fault (`server.port`), or `nil` for a whole-file problem.
    public let key: String?
    /// What is wrong, in words.
    public let message: String
    /// Where the bad value came from, when known.
    public let source: ConfigSource?

    /// Creates an error about `key` (or the whole configuration when `nil`).
    public init(key: String?, message: String, source: ConfigSource? = nil) {
        self.key = key
        self.message = message
        self.source = source
    }

    public var description: String {
        var s = "config: "
        if let key { s += key + ": " }
        s += message
        if let source, source != .defaultValue { s += " (from \(source))" }
        return s
    }
}
