/// Market and interval parameters of every method (socket `params`, REST query arguments and
/// bodies alike) follow one rule: `MarketName` for markets (any accepted spelling, answered as
/// its canonical id), `Topic.klineIntervals` for intervals. A refusal is `BAD_REQUEST` naming the
/// field and the rule; it never repeats the value (which may be 5,000 characters or hold control
/// characters).
enum MarketParameter {
    /// The canonical id of `value` (`btc/usdt` → `BTCUSDT`), else `BAD_REQUEST` naming `field`.
    static func market(_ value: String, field: String = "market") throws(APIError) -> String {
        guard let id = MarketName.canonical(value) else {
            throw APIError(.badRequest, "\(field) must be \(MarketName.rule)")
        }
        return id
    }

    /// `value` when it is a kline interval, else `BAD_REQUEST` naming `field` and the intervals.
    static func interval(_ value: String, field: String = "interval") throws(APIError) -> String {
        guard Topic.klineIntervals.contains(value) else {
            throw APIError(.badRequest, "\(field) must be one of \(intervalList)")
        }
        return value
    }

    /// The kline intervals, for messages.
    static let intervalList = Topic.klineIntervals.sorted().joined(separator: ", ")
}

extension LedgerParams {
    /// An optional market (a filter) as its canonical id: nil when absent or empty, `BAD_REQUEST`
    /// when it breaks the market rule.
    func market(_ name: String = "market") throws(APIError) -> String? {
        guard let s = try string(name) else { return nil }
        return try MarketParameter.market(s, field: name)
    }
}
