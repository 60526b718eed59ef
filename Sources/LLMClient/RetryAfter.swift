import MarketDataCore

/// An HTTP `Retry-After` value (RFC 9110 §10.2.3): a number of seconds, or an HTTP date
/// (IMF-fixdate, read by MarketDataCore's `HTTPDate`).
public enum RetryAfter: Sendable, Equatable, CustomStringConvertible {
    /// Wait this many seconds from when the answer arrived.
    case seconds(Int64)
    /// Wait until this wall time, ms since the epoch.
    case date(wallMillis: Int64)

    /// The header's value, or `nil` when it is neither a non-negative integer nor an HTTP date
    /// (then there is no hint, rather than a guessed one).
    public init?(header: String) {
        let text = header.trimmingSpaces
        if !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let seconds = Int64(text)
        {
            self = .seconds(seconds)
        } else if let millis = HTTPDate.millis(text) {
            self = .date(wallMillis: millis)
        } else {
            return nil
        }
    }

    /// `7 s`, or `until <ms since the epoch>`.
    public var description: String {
        switch self {
        case .seconds(let seconds): return "\(seconds) s"
        case .date(let millis): return "until \(millis) ms"
        }
    }

    /// How long to wait, in seconds (never negative), for an answer that arrived at wall time
    /// `wallNow` (seconds since the epoch): a date in the past means no wait.
    public func delay(wallNow: Double) -> Double {
        switch self {
        case .seconds(let seconds): return Double(seconds)
        case .date(let millis): return max(0, Double(millis) / 1000 - wallNow)
        }
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !blank($0) }), let end = lastIndex(where: { !blank($0) }) else { return "" }
        return String(self[start...end])
    }
}
