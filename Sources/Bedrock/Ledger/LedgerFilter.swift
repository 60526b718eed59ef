import JSONCodec

/// The list filters of `signals.list`, `positions.list` and `trades.list` (and their exports):
/// REST query arguments and socket params alike. Which fields a kind takes:
///
/// | kind | filters | `from`/`to` apply to |
/// |---|---|---|
/// | signals | `market, interval, strategy, side, final_decision` | `bar_time` |
/// | positions | `market, status, side, exit_reason, strategy` | `opened_at` |
/// | trades | `market, side, exit_reason, strategy` | `exit_time` |
///
/// `from`/`to` are `YYYY-MM-DD` (UTC; as `to`, the whole day counts), RFC 3339 or epoch
/// milliseconds, both inclusive. Other parameters are ignored.
struct LedgerFilter: Sendable, Equatable {
    /// Canonical market id.
    var market: String?
    var interval: String?
    var strategy: String?
    /// BUY or SELL.
    var side: String?
    /// APPROVED or REJECTED.
    var finalDecision: String?
    /// OPEN or CLOSED.
    var status: String?
    /// Upper-case exit reason (`STOP_LOSS`, `MANUAL`, ...).
    var exitReason: String?
    /// Inclusive bounds in epoch milliseconds.
    var from: Int64?
    var to: Int64?
}

extension LedgerParams {
    /// The filters of `kind` (see `LedgerFilter`); BAD_REQUEST naming the field on bad input.
    func filter(for kind: LedgerRecord) throws(APIError) -> LedgerFilter {
        var f = LedgerFilter()
        f.market = try market()
        f.side = try choice("side", ["BUY", "SELL"])
        switch kind {
        case .signal:
            f.interval = try string("interval").map { v throws(APIError) in try MarketParameter.interval(v) }
            f.strategy = try string("strategy")
            f.finalDecision = try choice("final_decision", ["APPROVED", "REJECTED"])
        case .position:
            f.status = try choice("status", PositionStatus.allCases.map(\.rawValue))
            f.exitReason = try string("exit_reason")?.uppercased()
            f.strategy = try string("strategy")
        case .trade:
            f.exitReason = try string("exit_reason")?.uppercased()
            f.strategy = try string("strategy")
        }
        (f.from, f.to) = try timeRange()
        return f
    }

    /// `from`/`to` as inclusive epoch-millisecond bounds; BAD_REQUEST when malformed or reversed.
    func timeRange() throws(APIError) -> (from: Int64?, to: Int64?) {
        let from = try timeBound("from", endOfDay: false)
        let to = try timeBound("to", endOfDay: true)
        if let from, let to, from > to { throw APIError(.badRequest, "from must not be after to") }
        return (from, to)
    }

    /// One of `allowed` (any case), upper-cased; nil when absent.
    func choice(_ name: String, _ allowed: [String]) throws(APIError) -> String? {
        guard let s = try string(name) else { return nil }
        let upper = s.uppercased()
        guard allowed.contains(upper) else {
            throw APIError(.badRequest, "\(name) must be \(allowed.joined(separator: " or "))")
        }
        return upper
    }

    /// A time bound: `YYYY-MM-DD` (UTC; with `endOfDay`, its last millisecond), RFC 3339 or epoch
    /// milliseconds; nil when absent.
    func timeBound(_ name: String, endOfDay: Bool) throws(APIError) -> Int64? {
        guard let v = params[name], !v.isNull else { return nil }
        if let ms = v.intValue { return ms }
        let rule = "\(name) must be a date (YYYY-MM-DD), an RFC 3339 time or epoch milliseconds"
        guard let raw = v.stringValue else { throw APIError(.badRequest, rule) }
        let text = LedgerParams.trimmed(raw)
        if text.isEmpty { return nil }
        if let day = JobParams.day(text) { return endOfDay ? day + 86_400_000 - 1 : day }
        if text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), text.utf8.count <= 15, let ms = Int64(text) { return ms }
        if text.utf8.count <= 40, let ms = LedgerTime.millis(text) { return ms }
        throw APIError(.badRequest, rule)
    }
}
