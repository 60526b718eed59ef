import Foundation

/// Loads OHLCV bars from CSV files (SPEC §9).
///
/// Layouts:
/// - a header naming the time column (`time`, `date`, `datetime`, `timestamp`, `open_time`, any
///   case; or an unnamed first column such as a pandas index) and `open`, `high`, `low`, `close`,
///   `volume` in any case and order (extra columns ignored; no `volume` column gives volume 0);
/// - Binance kline dumps with no header: 12 columns, open time first (ms, or µs in newer dumps),
///   then open, high, low, close, volume. Any header-less file whose first field is a number is
///   read with this column order.
/// Times: ISO 8601 date or date-time (UTC when no zone, offsets honoured) or epoch
/// seconds/ms/µs/ns told apart by magnitude (see `ByteNumberParser.parseTime`).
/// Every row must have as many fields as the first line, finite prices greater than 0 with
/// low ≤ min(open, close) ≤ max(open, close) ≤ high, a finite volume ≥ 0, and a time strictly
/// later than the row before (`Bar.problem` is the price rule). Blank lines are skipped. Any
/// violation fails the whole load with the line number; no message repeats the file's text.
public enum MarketData {
    /// Time column names recognised in a header, in order of preference.
    public static let timeColumnNames = ["time", "date", "datetime", "timestamp", "open_time"]

    /// Reads and parses the file at `path`. `name` is the file name in errors (default: the path
    /// as given). With `followLinks` false, a symbolic link as the last path component is refused
    /// instead of followed.
    public static func load(path: String, name: String? = nil, followLinks: Bool = true) throws -> BarSeries {
        try load(bytes: readFile(path, name: name ?? path, followLinks: followLinks), name: name ?? path)
    }

    /// The whole file at `path`, read straight into one array (no intermediate copy: a large
    /// dataset is tens of megabytes). Errors name the file as `name`.
    static func readFile(_ path: String, name: String, followLinks: Bool = true) throws(MarketDataError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | (followLinks ? 0 : O_NOFOLLOW))
        guard fd >= 0 else { throw .unreadable(file: name, reason: openFailure(errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(file: name, reason: openFailure(errno)) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw .unreadable(file: name, reason: "is a directory, not a file")
        default: throw .unreadable(file: name, reason: "not a regular file")
        }
        var failure: Int32?
        let bytes = [UInt8](unsafeUninitializedCapacity: Int(info.st_size)) { buffer, filled in
            while filled < buffer.count {
                let n = read(fd, buffer.baseAddress! + filled, buffer.count - filled)
                if n < 0 && errno == EINTR { continue }
                if n < 0 { failure = errno; filled = 0; return }
                if n == 0 { break }  // the file shrank while being read
                filled += n
            }
        }
        if let failure { throw .unreadable(file: name, reason: "cannot read: " + String(cString: strerror(failure))) }
        return bytes
    }

    /// Why `open` failed, in words (a directory opens fine and is refused after `fstat`).
    private static func openFailure(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case EACCES: return "not readable (permission denied)"
        case ELOOP: return "is a symbolic link (refused here)"
        default: return "cannot read: " + String(cString: strerror(code))
        }
    }

    /// Parses CSV bytes; `name` is used in error messages.
    public static func load(bytes: [UInt8], name: String) throws -> BarSeries {
        try bytes.withUnsafeBufferPointer { try parse($0, name: name) }
    }

    private enum Role: UInt8 { case ignore, time, open, high, low, close, volume }

    private static func lineEnd(_ p: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        var i = from
        while i < p.count && p[i] != 10 { i += 1 }
        return i
    }

    /// Trims spaces, tabs, CR and one pair of surrounding double quotes.
    private static func trim(_ p: UnsafeBufferPointer<UInt8>, _ s: inout Int, _ e: inout Int) {
        while s < e && (p[s] == 32 || p[s] == 9) { s += 1 }
        while e > s && (p[e - 1] == 32 || p[e - 1] == 9 || p[e - 1] == 13) { e -= 1 }
        if e - s >= 2 && p[s] == 34 && p[e - 1] == 34 { s += 1; e -= 1 }
    }

    private static func splitFields(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> [String] {
        var fields: [String] = []
        var a = s
        for k in s...e where k == e || p[k] == 44 {
            var fs = a, fe = k
            trim(p, &fs, &fe)
            fields.append(String(decoding: UnsafeBufferPointer(rebasing: p[fs..<fe]), as: UTF8.self))
            a = k + 1
        }
        return fields
    }

    private static func parse(_ p: UnsafeBufferPointer<UInt8>, name: String) throws -> BarSeries {
        var pos = 0
        var line = 1
        if p.count >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF { pos = 3 }
        // Skip leading blank lines.
        while pos < p.count {
            let e = lineEnd(p, from: pos)
            var s = pos, t = e
            trim(p, &s, &t)
            if s < t { break }
            pos = e + 1; line += 1
        }
        guard pos < p.count else { throw MarketDataError.empty(file: name) }
        let firstEnd = lineEnd(p, from: pos)
        let first = splitFields(p, pos, firstEnd)
        var roles = [Role](repeating: .ignore, count: first.count)
        let hasHeader: Bool
        let firstFieldEnd = pos + firstFieldLength(p, pos, firstEnd)
        if firstFieldEnd > pos && ByteNumberParser.parseTime(p, pos, firstFieldEnd) != nil {
            // No header (the first field is already a time): Binance column order.
            hasHeader = false
            guard first.count >= 6 else {
                throw MarketDataError.malformedRow(
                    file: name, line: line,
                    reason:
                        "a file without a header needs at least 6 columns (time, open, high, low, close, volume), found \(first.count)"
                )
            }
            roles[0] = .time; roles[1] = .open; roles[2] = .high; roles[3] = .low; roles[4] = .close; roles[5] = .volume
        } else {
            hasHeader = true
            let lower = first.map { $0.lowercased() }
            var timeIndex: Int?
            for candidate in timeColumnNames { if let k = lower.firstIndex(of: candidate) { timeIndex = k; break } }
            if timeIndex == nil && lower.first == "" { timeIndex = 0 }
            guard let timeIndex else {
                throw MarketDataError.missingColumn(file: name, column: "time")
            }
            roles[timeIndex] = .time
            for (column, role) in [("open", Role.open), ("high", .high), ("low", .low), ("close", .close)] {
                guard let k = lower.firstIndex(of: column) else {
                    throw MarketDataError.missingColumn(file: name, column: column)
                }
                roles[k] = role
            }
            if let k = lower.firstIndex(of: "volume") { roles[k] = .volume }
        }
        if hasHeader { pos = firstEnd + 1; line += 1 }
        return try parseRows(p, from: pos, line: line, roles: roles, name: name)
    }

    private static func firstFieldLength(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Int {
        var k = s
        while k < e && p[k] != 44 && p[k] != 13 && p[k] != 32 && p[k] != 34 { k += 1 }
        return k - s
    }

    private static func parseRows(
        _ p: UnsafeBufferPointer<UInt8>, from start: Int, line firstLine: Int,
        roles: [Role], name: String
    ) throws -> BarSeries {
        var series = BarSeries()
        series.reserveCapacity(Swift.max(16, (p.count - start) / 48))
        let expectedFields = roles.count
        var pos = start
        var line = firstLine
        var previousTime = Int64.min
        let end = p.count
        while pos < end {
            var e = pos
            while e < end && p[e] != 10 { e += 1 }
            var contentEnd = e
            if contentEnd > pos && p[contentEnd - 1] == 13 { contentEnd -= 1 }
            var blank = true
            for k in pos..<contentEnd where p[k] != 32 && p[k] != 9 { blank = false; break }
            if !blank {
                var time: Int64 = 0
                var o = 0.0, h = 0.0, l = 0.0, c = 0.0, v = 0.0
                var field = 0
                var s = pos
                while true {
                    var fe = s
                    while fe < contentEnd && p[fe] != 44 { fe += 1 }
                    if field < expectedFields {
                        let role = roles[field]
                        if role != .ignore {
                            var a = s, b = fe
                            trim(p, &a, &b)
                            if role == .time {
                                guard let t = ByteNumberParser.parseTime(p, a, b) else {
                                    throw rowError(
                                        name, line, "field \(field + 1) (time) is neither ISO 8601 nor an epoch number")
                                }
                                time = t
                            } else {
                                guard let x = ByteNumberParser.parseDouble(p, a, b), x.isFinite else {
                                    throw rowError(name, line, "field \(field + 1) (\(role)) is not a finite number")
                                }
                                switch role {
                                case .open: o = x
                                case .high: h = x
                                case .low: l = x
                                case .close: c = x
                                default: v = x
                                }
                            }
                        }
                    }
                    field += 1
                    if fe >= contentEnd { break }
                    s = fe + 1
                }
                guard field == expectedFields else {
                    throw rowError(name, line, "expected \(expectedFields) fields, found \(field)")
                }
                if let problem = Bar.problem(open: o, high: h, low: l, close: c, volume: v) {
                    throw rowError(name, line, problem)
                }
                if time <= previousTime {
                    if time == previousTime { throw MarketDataError.duplicateTime(file: name, line: line, time: time) }
                    throw MarketDataError.unsortedTime(file: name, line: line, time: time, previous: previousTime)
                }
                previousTime = time
                series.append(Bar(time: time, open: o, high: h, low: l, close: c, volume: v))
            }
            pos = e + 1
            line += 1
        }
        guard !series.isEmpty else { throw MarketDataError.empty(file: name) }
        return series
    }

    private static func rowError(_ name: String, _ line: Int, _ reason: String) -> MarketDataError {
        .malformedRow(file: name, line: line, reason: reason)
    }

}
