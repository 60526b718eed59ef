import Logging

/// Sets up swift-log for a process that logs (`bedrock serve`): every `Logger` made afterwards
/// writes through one `StderrLogHandler` at `log.level` in `log.format`.
public enum LogSetup {
    /// Bootstrap the logging system once per process, before any `Logger` is made.
    public static func bootstrap(_ config: GatewayConfig.Log) {
        let level = Logger.Level(config.level)
        let format: StderrLogHandler.Format = config.format == .json ? .json : .text
        LoggingSystem.bootstrap { _ in StderrLogHandler(level: level, format: format) }
    }

    /// Wait until every line logged so far is on stderr (before the process exits).
    public static func flush() { LogWriter.standardError.flush() }
}

extension Logger.Level {
    /// The swift-log level of a `log.level` value (`warn` is `warning`).
    init(_ level: GatewayConfig.LogLevel) {
        switch level {
        case .trace: self = .trace
        case .debug: self = .debug
        case .info: self = .info
        case .notice: self = .notice
        case .warning: self = .warning
        case .error: self = .error
        case .critical: self = .critical
        }
    }
}
