/// Why an ingested kline was not appended: the `reason` label of
/// `bedrock_market_data_rejected_total{reason}` (raw values are the label values; one list, so
/// every reason is bound to its counter once).
public enum MarketDataRejectReason: String, Sendable, CaseIterable {
    /// The payload broke the exchange's documented format (`KlineDecodeError`).
    case malformed
    /// A price or the volume is NaN or infinite.
    case nonFinite = "non_finite"
    /// A price is zero or negative, or the volume is negative.
    case negative
    /// high < max(open, close).
    case highBelowBody = "high_below_body"
    /// low > min(open, close).
    case lowAboveBody = "low_above_body"
    /// The open time is not on the interval's grid.
    case offGrid = "off_grid"
    /// The symbol or interval is not the stream's (a combined stream or a page for another market).
    case wrongMarket = "wrong_market"
    /// The bar's open time equals the stream's last one.
    case duplicate
    /// The bar's open time is before the stream's last one.
    case outOfOrder = "out_of_order"
}
