/// Exactly once and in order (SPEC §10): the gate between one market's decoded klines (REST pages
/// and live updates) and its stream. Given the stream's last open time, it passes only closed
/// bars strictly after it, counts duplicates and out-of-order bars, and turns a hole — the next
/// closed bar more than one interval after the last — into a repair over REST before the bar.
///
/// The forming bar (`closed` false) is ignored, not counted: the exchange repeats it until it
/// closes. The sequencer checks order only; quality is `BarQuality`'s.
public struct KlineSequencer: Sendable, Equatable {
    /// What to do with one kline.
    public enum Action: Sendable, Equatable {
        /// Append it; it is now the stream's last bar.
        case append(ExchangeKline)
        /// Not final yet: wait for its closing update.
        case ignoreForming
        /// Drop it and count `reason` (`duplicate` or `outOfOrder`).
        case drop(MarketDataRejectReason)
        /// Bars are missing: fetch the bars opening in [from, to) over REST, feed them through
        /// this sequencer, then this kline again.
        case repair(from: Int64, to: Int64)
    }

    /// The stream's interval.
    public let interval: KlineInterval
    /// Open time of the stream's last bar; nil while the stream is empty.
    public private(set) var lastOpenTime: Int64?

    /// A sequencer after `lastOpenTime` (nil: an empty stream, anything closed passes).
    public init(interval: KlineInterval, lastOpenTime: Int64?) {
        self.interval = interval
        self.lastOpenTime = lastOpenTime
    }

    /// The action for `kline`; `append` moves `lastOpenTime` to it.
    public mutating func offer(_ kline: ExchangeKline) -> Action { sequence(kline, acrossGap: false) }

    /// After a hole REST could not fill (`MARKET_DATA_GAP` raised for the range): the action for
    /// `kline` with the hole before it accepted, so a closed bar after the last one is appended.
    public mutating func offerAcrossGap(_ kline: ExchangeKline) -> Action { sequence(kline, acrossGap: true) }

    private mutating func sequence(_ kline: ExchangeKline, acrossGap: Bool) -> Action {
        guard kline.closed else { return .ignoreForming }
        if let last = lastOpenTime {
            if kline.openTime == last { return .drop(.duplicate) }
            if kline.openTime < last { return .drop(.outOfOrder) }
            let expected = interval.nextOpenTime(after: last)
            if kline.openTime > expected, !acrossGap { return .repair(from: expected, to: kline.openTime) }
        }
        lastOpenTime = kline.openTime
        return .append(kline)
    }
}
