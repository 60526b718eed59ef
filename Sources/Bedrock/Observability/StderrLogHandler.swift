import Foundation
import Logging

/// The gateway's one log handler (SPEC §13): a line per message on stderr, either readable text
/// (`2026-01-02T03:04:05.678Z info msg key=value ...`) or one JSON object with `ts` (RFC 3339,
/// UTC, milliseconds), `level`, `msg` and the metadata fields. Numbers and booleans in the
/// metadata stay numbers and booleans in JSON. Each line is one `write(2)`, so lines from
/// different threads never interleave.
public struct StderrLogHandler: LogHandler {
    /// How lines are written (`log.format`).
    public enum Format: Sendable {
        /// `ts level msg key=value ...`
        case text
        /// One JSON object per line.
        case json
    }

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let format: Format

    /// A handler writing at `level` and above in `format`.
    public init(level: Logger.Level, format: Format, metadataProvider: Logger.MetadataProvider? = nil) {
        logLevel = level
        self.format = format
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { $1 } }
        if let own = event.metadata { fields.merge(own) { $1 } }
        if let error = event.error { fields["error"] = .string("\(error)") }
        var line = format == .json
            ? Self.json(ts: Self.timestamp(), level: event.level, message: "\(event.message)", fields: fields)
            : Self.text(ts: Self.timestamp(), level: event.level, message: "\(event.message)", fields: fields)
        line.append("\n")
        let bytes = Array(line.utf8)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }

    /// The level's name in log lines: SPEC §13 spells `warning` as `warn`.
    static func name(_ level: Logger.Level) -> String {
        level == .warning ? "warn" : level.rawValue
    }

    /// A readable line: time, level, message, then `key=value` (values with spaces quoted).
    static func text(ts: String, level: Logger.Level, message: String, fields: Logger.Metadata) -> String {
        var line = "\(ts) \(name(level)) \(message)"
        for key in fields.keys.sorted() {
            let value = "\(fields[key]!)"
            line += value.contains(where: { $0 == " " || $0 == "\"" }) || value.isEmpty
                ? " \(key)=\(quoted(value))" : " \(key)=\(value)"
        }
        return line
    }

    /// One JSON object: `ts`, `level`, `msg`, then the metadata fields in key order.
    static func json(ts: String, level: Logger.Level, message: String, fields: Logger.Metadata) -> String {
        var line = "{\"ts\":\(quoted(ts)),\"level\":\(quoted(name(level))),\"msg\":\(quoted(message))"
        for key in fields.keys.sorted() where key != "ts" && key != "level" && key != "msg" {
            line += ",\(quoted(key)):\(json(fields[key]!))"
        }
        return line + "}"
    }

    private static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let s):
            return quoted(s)
        case .stringConvertible(let v):
            switch v {
            case let b as Bool: return b ? "true" : "false"
            case let i as any BinaryInteger: return "\(i)"
            case let d as Double where d.isFinite: return "\(d)"
            default: return quoted("\(v)")
            }
        case .array(let items):
            return "[" + items.map { json($0) }.joined(separator: ",") + "]"
        case .dictionary(let dict):
            return "{" + dict.keys.sorted().map { "\(quoted($0)):\(json(dict[$0]!))" }.joined(separator: ",") + "}"
        }
    }

    /// `s` as a JSON string literal.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u00" + String(scalar.value >> 4, radix: 16) + String(scalar.value & 0xf, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Now as RFC 3339 in UTC with milliseconds: `2026-01-02T03:04:05.678Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let ms = Int(now.tv_nsec / 1_000_000)
        let millis = ms < 10 ? "00\(ms)" : ms < 100 ? "0\(ms)" : "\(ms)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(millis)Z"
    }
}
