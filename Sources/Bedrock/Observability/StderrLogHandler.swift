import Foundation
import Logging

/// The gateway's one log handler (SPEC §13): a line per message on stderr, either readable text
/// (`2026-01-02T03:04:05.678Z info msg key=value ...`) or one JSON object with `ts` (RFC 3339,
/// UTC, milliseconds), `level`, `msg` and the metadata fields. Numbers and booleans in the
/// metadata stay numbers and booleans in JSON. Lines are formatted on the calling thread and
/// written by `LogWriter`, so logging never waits on the disk.
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
    private let writer: LogWriter

    /// A handler writing at `level` and above in `format`.
    public init(level: Logger.Level, format: Format, metadataProvider: Logger.MetadataProvider? = nil) {
        self.init(level: level, format: format, metadataProvider: metadataProvider, writer: .standardError)
    }

    init(level: Logger.Level, format: Format, metadataProvider: Logger.MetadataProvider?, writer: LogWriter) {
        logLevel = level
        self.format = format
        self.metadataProvider = metadataProvider
        self.writer = writer
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: Logger.Metadata
        if metadata.isEmpty && metadataProvider == nil {
            fields = event.metadata ?? [:]  // the common case: no copy, no merge
        } else {
            fields = metadata
            if let provided = metadataProvider?.get() { fields.merge(provided) { $1 } }
            if let own = event.metadata { fields.merge(own) { $1 } }
        }
        if let error = event.error { fields["error"] = .string("\(error)") }
        var line = LogLine()
        line.timestamp()
        switch format {
        case .json: line.json(level: event.level, message: "\(event.message)", fields: fields)
        case .text: line.text(level: event.level, message: "\(event.message)", fields: fields)
        }
        line.bytes.append(UInt8(ascii: "\n"))
        writer.append(line.bytes)
    }

    /// The level's name in log lines: SPEC §13 spells `warning` as `warn`.
    static func name(_ level: Logger.Level) -> String {
        level == .warning ? "warn" : level.rawValue
    }

    /// A readable line: time, level, message, then `key=value` (values with spaces quoted).
    static func text(ts: String, level: Logger.Level, message: String, fields: Logger.Metadata) -> String {
        var line = LogLine()
        line.bytes += ts.utf8
        line.text(level: level, message: message, fields: fields)
        return String(decoding: line.bytes, as: UTF8.self)
    }

    /// One JSON object: `ts`, `level`, `msg`, then the metadata fields.
    static func json(ts: String, level: Logger.Level, message: String, fields: Logger.Metadata) -> String {
        var line = LogLine()
        line.bytes += ts.utf8
        line.json(level: level, message: message, fields: fields)
        return String(decoding: line.bytes, as: UTF8.self)
    }

    /// Now as RFC 3339 in UTC with milliseconds: `2026-01-02T03:04:05.678Z`.
    static func timestamp() -> String {
        var line = LogLine()
        line.timestamp()
        return String(decoding: line.bytes, as: UTF8.self)
    }
}

/// One log line being built as UTF-8 bytes. `json` and `text` expect the timestamp first.
struct LogLine {
    var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(256) }

    /// `2026-01-02T03:04:05.678Z`, now, in UTC.
    mutating func timestamp() {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var t = tm()
        gmtime_r(&seconds, &t)
        digits(Int(t.tm_year) + 1900, 4); bytes.append(UInt8(ascii: "-"))
        digits(Int(t.tm_mon) + 1, 2); bytes.append(UInt8(ascii: "-"))
        digits(Int(t.tm_mday), 2); bytes.append(UInt8(ascii: "T"))
        digits(Int(t.tm_hour), 2); bytes.append(UInt8(ascii: ":"))
        digits(Int(t.tm_min), 2); bytes.append(UInt8(ascii: ":"))
        digits(Int(t.tm_sec), 2); bytes.append(UInt8(ascii: "."))
        digits(Int(now.tv_nsec / 1_000_000), 3); bytes.append(UInt8(ascii: "Z"))
    }

    /// `{"ts":` + the timestamp already written + level, message and the fields (in the
    /// dictionary's order: a JSON reader does not care).
    mutating func json(level: Logger.Level, message: String, fields: Logger.Metadata) {
        bytes.insert(contentsOf: #"{"ts":""#.utf8, at: 0)
        bytes += #"","level":""#.utf8
        bytes += StderrLogHandler.name(level).utf8
        bytes += #"","msg":"#.utf8
        quoted(message)
        for (key, value) in fields where key != "ts" && key != "level" && key != "msg" {
            bytes.append(UInt8(ascii: ","))
            quoted(key)
            bytes.append(UInt8(ascii: ":"))
            json(value)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// ` level message key=value ...` after the timestamp already written.
    mutating func text(level: Logger.Level, message: String, fields: Logger.Metadata) {
        bytes.append(UInt8(ascii: " "))
        bytes += StderrLogHandler.name(level).utf8
        bytes.append(UInt8(ascii: " "))
        bytes += message.utf8
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            bytes.append(UInt8(ascii: " "))
            bytes += key.utf8
            bytes.append(UInt8(ascii: "="))
            switch value {
            case .string(let value): textValue(value)
            case .stringConvertible(let value as Int): bytes += String(value).utf8
            case let other: textValue(other.description)
            }
        }
    }

    /// A `text` value: as it is, or quoted when it is empty or has spaces, controls or quotes.
    mutating func textValue(_ value: String) {
        if value.isEmpty || value.utf8.contains(where: { $0 <= 0x20 || $0 == 0x22 }) {
            quoted(value)
        } else {
            bytes += value.utf8
        }
    }

    private mutating func json(_ value: Logger.Metadata.Value) {
        switch value {
        case .string(let s):
            quoted(s)
        case .stringConvertible(let v):
            switch v {
            case let b as Bool: bytes += (b ? "true" : "false").utf8
            case let i as Int: bytes += String(i).utf8
            case let i as any BinaryInteger: bytes += "\(i)".utf8
            case let d as Double where d.isFinite: bytes += d.description.utf8
            default: quoted("\(v)")
            }
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                json(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .dictionary(let dict):
            bytes.append(UInt8(ascii: "{"))
            for (i, key) in dict.keys.sorted().enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                quoted(key)
                bytes.append(UInt8(ascii: ":"))
                json(dict[key]!)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// `s` as a JSON string literal.
    mutating func quoted(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += #"\""#.utf8
            case UInt8(ascii: "\\"): bytes += #"\\"#.utf8
            case UInt8(ascii: "\n"): bytes += #"\n"#.utf8
            case UInt8(ascii: "\r"): bytes += #"\r"#.utf8
            case UInt8(ascii: "\t"): bytes += #"\t"#.utf8
            case 0..<0x20:
                bytes += #"\u00"#.utf8
                bytes.append(hex(byte >> 4))
                bytes.append(hex(byte & 0xf))
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private func hex(_ n: UInt8) -> UInt8 { n < 10 ? UInt8(ascii: "0") + n : UInt8(ascii: "a") + n - 10 }

    /// `n` in decimal, zero-padded to `width`.
    mutating func digits(_ n: Int, _ width: Int) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = n
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8((rest / divisor) % 10))
            rest %= divisor
            divisor /= 10
        }
    }
}
