/// Why a market-data file could not be loaded. Nothing is half-loaded: any error fails the load.
/// `description` names the file and, for row errors, the 1-based line number. No message repeats
/// the file's content (a field's text, the header): a gateway shows these messages to clients,
/// and a file must not leak through them.
public enum MarketDataError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read (missing, a directory, not readable).
    case unreadable(file: String, reason: String)
    /// The file holds no data rows.
    case empty(file: String)
    /// The header lacks a required column (`time` or one of open/high/low/close).
    case missingColumn(file: String, column: String)
    /// A row could not be parsed (bad number or time, wrong field count, a price that is not
    /// positive, inconsistent prices, negative volume).
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

    /// What is wrong, without the file name or line number.
    public var reason: String {
        switch self {
        case let .unreadable(_, reason): return reason
        case .empty: return "no data rows"
        case let .missingColumn(_, column):
            if column == "time" {
                return "missing column 'time' (the header needs one of \(MarketData.timeColumnNames.joined(separator: ", ")))"
            }
            return "missing column '\(column)'"
        case let .malformedRow(_, _, reason): return "malformed row: \(reason)"
        case let .unsortedTime(_, _, time, previous):
            return "time \(time) ms is earlier than the previous row's \(previous) ms (rows must be in time order)"
        case let .duplicateTime(_, _, time): return "duplicate time \(time) ms"
        }
    }

    /// `file:line: reason` (or `file: reason`), ready for a one-line CLI error.
    public var description: String {
        let file: String
        switch self {
        case let .unreadable(f, _), let .empty(f), let .missingColumn(f, _), let .malformedRow(f, _, _),
            let .unsortedTime(f, _, _, _), let .duplicateTime(f, _, _):
            file = f
        }
        return file + (line.map { ":\($0)" } ?? "") + ": " + reason
    }
}
