import TradingCore

/// The data-quality rule for ingested klines (SPEC §10): a bar is rejected, with a reason for the
/// metric, when high < max(open, close), low > min(open, close), a value is non-finite or
/// negative (a price of 0 too: `Bar.problem`, the rule of every other source of bars, refuses
/// it and the engine would never trade it), or its open time is off the interval's grid.
public enum BarQuality {
    /// Why `kline` must not be appended to the stream of `symbol` (the exchange's spelling) and
    /// `interval`, or nil when it may: `wrongMarket` first, then the rule of `rejection(of:)`.
    public static func rejection(of kline: ExchangeKline, symbol: String, interval: KlineInterval) -> MarketDataRejectReason? {
        guard kline.symbol == symbol, kline.interval == interval else { return .wrongMarket }
        return rejection(of: kline)
    }

    /// Why `kline` must not be appended, or nil when it may.
    public static func rejection(of kline: ExchangeKline) -> MarketDataRejectReason? {
        if let reason = priceRejection(kline) { return reason }
        return kline.interval.isOnGrid(kline.openTime) ? nil : .offGrid
    }

    /// The reason `Bar.problem` refuses these prices, classified for the metric.
    private static func priceRejection(_ k: ExchangeKline) -> MarketDataRejectReason? {
        guard Bar.problem(open: k.open, high: k.high, low: k.low, close: k.close, volume: k.volume) != nil else {
            return nil
        }
        let values = [k.open, k.high, k.low, k.close, k.volume]
        if values.contains(where: { !$0.isFinite }) { return .nonFinite }
        if [k.open, k.high, k.low, k.close].contains(where: { $0 <= 0 }) || k.volume < 0 { return .negative }
        if k.high < max(k.open, k.close) { return .highBelowBody }
        return .lowAboveBody
    }
}
