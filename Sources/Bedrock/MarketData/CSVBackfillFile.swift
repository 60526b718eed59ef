import Foundation
import TradingCore

/// A CSV market-data file of SPEC §9 written by `bedrock backfill --out`: the header
/// `time,open,high,low,close,volume`, then one row per bar, time in RFC 3339 UTC, oldest first —
/// what `bedrock backtest --data` loads.
///
/// Resumable and kill-safe: rows are appended (`O_APPEND`) a page at a time, each page in one
/// `write`; on opening an existing file, a partial last line (a run killed mid-write) is cut off,
/// and the last whole row says where to continue. A row never repeats or goes back in time.
public struct CSVBackfillFile: BackfillSink {
    /// The header this writer writes and resumes after.
    public static let header = "time,open,high,low,close,volume"

    /// The file's path.
    public let path: String
    /// Bytes of a partial last line cut off on opening (0 for a whole file).
    public private(set) var repairedBytes = 0
    private var last: Int64?

    /// Opens (or creates, with its header) the file at `path` and finds its last row. Throws
    /// `BackfillFileError` when the file exists with another header or an unreadable last row.
    public init(path: String) throws {
        self.path = path
        let fm = FileManager.default
        guard fm.fileExists(atPath: path), let data = fm.contents(atPath: path), !data.isEmpty else {
            try Self.appendBytes(Array((Self.header + "\n").utf8), to: path, create: true)
            return
        }
        var bytes = [UInt8](data)
        if bytes.last != UInt8(ascii: "\n") {
            let keep = (bytes.lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
            repairedBytes = bytes.count - keep
            guard truncate(path, off_t(keep)) == 0 else {
                throw BackfillFileError("cannot cut the partial last line of \(path): \(String(cString: strerror(errno)))")
            }
            bytes.removeSubrange(keep...)
        }
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        guard let first = lines.first else {
            try Self.appendBytes(Array((Self.header + "\n").utf8), to: path, create: false)
            return
        }
        guard String(decoding: first, as: UTF8.self) == Self.header else {
            throw BackfillFileError(
                "\(path) exists and is not a backfill CSV (its header is not \(Self.header)); choose another --out")
        }
        guard lines.count > 1, let lastLine = lines.last else { return }
        let probe = Array((Self.header + "\n").utf8) + Array(lastLine) + [UInt8(ascii: "\n")]
        do {
            last = try MarketData.load(bytes: probe, name: path).time.last
        } catch {
            throw BackfillFileError("the last row of \(path) is not a bar (\(error)); choose another --out")
        }
    }

    /// The open time of the file's last row.
    public func lastOpenTime() -> Int64? { last }

    /// Appends the bars opening after the last row, in one `write`.
    public mutating func write(_ bars: [Bar]) throws -> Int {
        var text = ""
        text.reserveCapacity(bars.count * 80)
        var written = 0
        for bar in bars where last.map({ bar.time > $0 }) ?? true {
            text += RFC3339.format(milliseconds: bar.time)
            for value in [bar.open, bar.high, bar.low, bar.close, bar.volume] {
                text += ","
                text += Self.decimal(value)
            }
            text += "\n"
            last = bar.time
            written += 1
        }
        if written > 0 { try Self.appendBytes(Array(text.utf8), to: path, create: false) }
        return written
    }

    /// The file's path.
    public var destination: String { path }

    /// The shortest text that reads back as `value` (`42000.5`, `0.00012`), without an exponent
    /// for the magnitudes of prices and volumes.
    static func decimal(_ value: Double) -> String {
        let shortest = "\(value)"
        guard shortest.contains("e") else { return shortest.hasSuffix(".0") ? String(shortest.dropLast(2)) : shortest }
        var digits = 1
        while digits < 30, Double(String(format: "%.\(digits)f", value)) != value { digits += 1 }
        return String(format: "%.\(digits)f", value)
    }

    /// Appends `bytes` with one `write(2)` (retried for the rest after a short write).
    private static func appendBytes(_ bytes: [UInt8], to path: String, create: Bool) throws {
        let fd = open(path, O_WRONLY | O_APPEND | (create ? O_CREAT | O_EXCL : 0), 0o644)
        guard fd >= 0 else { throw BackfillFileError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw BackfillFileError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }
}

/// A backfill file that cannot be opened, resumed or written.
public struct BackfillFileError: Error, CustomStringConvertible {
    /// What went wrong, naming the file.
    public let description: String

    init(_ description: String) { self.description = description }
}
