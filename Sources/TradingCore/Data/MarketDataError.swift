/// Why a market-data file could not be loaded. Nothing is half-loaded: any error fails the load.
/// `description` names the file and, for row errors, the 1-based line number.
public enum MarketDataError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read.
    case unreadable(file: String, reason: String)
    /// The file holds no data rows.
    case empty(file: String)
    /// The header lacks a required column (`time` or one of open/high/low/close).
    case missingColumn(file: String, column: String, header: [String])
    /// A row could not be parsed (bad number or time, wrong field count, inconsistent prices).
    case malformedRow(file: String, line: Int, reason: String)
    /// A row's time is earlier than the row before it.
    case unsortedTime(file: String, line: Int, time: Int64, previous: Int64)
    /// A row repeats the time of the row before it.
    case duplicateTime(file: String, line: Int, time: Int64)

    /// The 1-based line the error refers to, when it is about one row (the header is line 1).
    public var line: Int? {
        switch self {
        case .unreadable, .empty: return nil
        case .missingColumn: return 1
        case let .malformedRow(_, line, _), let .unsortedTime(_, line, _, _), let .duplicateTime(_, line, _): return line
        }
    }

    /// `file:line: reason`, ready for a one-line CLI error.
    public var description: String {
        switch self {
        case let .unreadable(file, reason): return "\(file): cannot read: \(reason)"
        case let .empty(file): return "\(file): no data rows"
        case let .missingColumn(file, column, header):
            return "\(file):1: missing column '\(column)' (header: \(header.joined(separator: ",")))"
        case let .malformedRow(file, line, reason): return "\(file):\(line): malformed row: \(reason)"
        case let .unsortedTime(file, line, time, previous):
            return
                "\(file):\(line): time \(time) ms is earlier than the previous row's \(previous) ms (rows must be in time order)"
        case let .duplicateTime(file, line, time):
            return "\(file):\(line): duplicate time \(time) ms"
        }
    }
}
