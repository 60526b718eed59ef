/// `STALE_MARKET_DATA` for one market (SPEC §10): no closed bar for `staleAfterIntervals`
/// intervals past the time the next one was due raises the alert once; the next closed bar
/// re-arms it. Bar times are the exchange's wall clock, so this watch runs on wall milliseconds
/// (`ClockReading.wall` × 1000), not on the monotonic clock.
public struct StalenessWatch: Sendable, Equatable {
    /// What a check found.
    public enum Action: Sendable, Equatable {
        /// Nothing to do; check again at this wall time (ms), or, while alerted (nil), after the
        /// next closed bar.
        case none(nextCheckAt: Int64?)
        /// Raise `STALE_MARKET_DATA` now (once): the last closed bar opened at `lastOpenTime`
        /// (nil: none since the watch started) and the next one was due at `dueAt`.
        case raiseStale(lastOpenTime: Int64?, dueAt: Int64)
    }

    /// The market's interval.
    public let interval: KlineInterval
    /// Intervals past due before the market is stale (`market_data.stale_after_intervals`).
    public let staleAfterIntervals: Int
    /// Open time of the last closed bar; nil before the first.
    public private(set) var lastOpenTime: Int64?
    /// True from the alert until the next closed bar (`/ready` `checks.market_data`).
    public private(set) var isStale = false
    private let startedAt: Int64

    /// A watch started at wall time `nowMillis`, after the stream's last bar (nil: empty).
    public init(interval: KlineInterval, staleAfterIntervals: Int, lastOpenTime: Int64?, nowMillis: Int64) {
        self.interval = interval
        self.staleAfterIntervals = max(1, staleAfterIntervals)
        self.lastOpenTime = lastOpenTime
        startedAt = nowMillis
    }

    /// When the next closed bar is due: the close of the bar after the last one (or one interval
    /// after the watch started).
    public var dueAt: Int64 {
        guard let last = lastOpenTime else { return startedAt + interval.nominalMillis }
        return interval.closeTime(ofBarOpeningAt: interval.nextOpenTime(after: last))
    }

    /// When the market turns stale without a new bar.
    public var staleAt: Int64 { dueAt + Int64(staleAfterIntervals) * interval.nominalMillis }

    /// A closed bar opening at `openTime` was appended at wall time `nowMillis`: fresh again and
    /// the alert re-armed — unless the market is still past due even with this bar (a backlog
    /// arriving bar by bar after an outage), when it stays stale without a new alert. Returns
    /// true when this ends a stale period.
    @discardableResult
    public mutating func barClosed(openTime: Int64, nowMillis: Int64? = nil) -> Bool {
        if lastOpenTime.map({ openTime > $0 }) ?? true { lastOpenTime = openTime }
        guard isStale else { return false }
        if let now = nowMillis, now >= staleAt { return false }
        isStale = false
        return true
    }

    /// The action at wall time `nowMillis`.
    public mutating func check(nowMillis: Int64) -> Action {
        if isStale { return .none(nextCheckAt: nil) }
        guard nowMillis >= staleAt else { return .none(nextCheckAt: staleAt) }
        isStale = true
        return .raiseStale(lastOpenTime: lastOpenTime, dueAt: dueAt)
    }
}
