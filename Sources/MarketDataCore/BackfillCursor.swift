/// The pages of one market's backfill over REST (SPEC §10): from the bar after the stream's last
/// one (or `backfillBars` closed bars back when the stream is empty) up to the bar forming when
/// the backfill began, at most `pageLimit` bars a page. Each page names an inclusive
/// [startTime, endTime] holding at most `pageLimit` open times, so it means the same on Binance
/// (oldest `limit` bars from `startTime`) and on Bybit (newest `limit` bars before `end`).
/// Resumable: a restart builds a new cursor from the stream's last bar.
public struct BackfillCursor: Sendable, Equatable {
    /// One REST request.
    public struct Page: Sendable, Equatable {
        /// First open time asked for (Binance `startTime`, Bybit `start`), ms.
        public let startTime: Int64
        /// Last open time asked for, inclusive (Binance `endTime`, Bybit `end`), ms.
        public let endTime: Int64
        /// `limit`.
        public let limit: Int

        /// A page.
        public init(startTime: Int64, endTime: Int64, limit: Int) {
            self.startTime = startTime
            self.endTime = endTime
            self.limit = limit
        }
    }

    /// The interval.
    public let interval: KlineInterval
    /// Bars per page (both exchanges allow 1000).
    public let pageLimit: Int
    /// Open time of the bar forming when the backfill began: the backfill ends before it (the
    /// live stream takes over from there).
    public let endOpenTime: Int64
    /// Open time the next page starts at.
    public private(set) var nextStart: Int64

    /// A cursor at wall time `nowMillis`, after the stream's `lastOpenTime` (nil: empty stream,
    /// start `backfillBars` closed bars back).
    public init(interval: KlineInterval, lastOpenTime: Int64?, backfillBars: Int, nowMillis: Int64, pageLimit: Int = 1000) {
        self.interval = interval
        self.pageLimit = max(1, pageLimit)
        endOpenTime = interval.openTime(containing: nowMillis)
        if let last = lastOpenTime {
            nextStart = interval.nextOpenTime(after: last)
        } else {
            nextStart = interval.openTime(-Int64(max(0, backfillBars)), barsAfter: endOpenTime)
        }
    }

    /// A cursor over the bars opening in [`from`, `to`) (ms since the epoch; `bedrock backfill
    /// --from/--to`), never reaching the bar forming at wall time `nowMillis`.
    public init(interval: KlineInterval, from: Int64, to: Int64, nowMillis: Int64, pageLimit: Int = 1000) {
        self.interval = interval
        self.pageLimit = max(1, pageLimit)
        endOpenTime = min(interval.openTime(containing: nowMillis), Self.firstOpenTime(atOrAfter: to, interval))
        nextStart = Self.firstOpenTime(atOrAfter: from, interval)
    }

    /// The first open time on `interval`'s grid at or after `time`.
    public static func firstOpenTime(atOrAfter time: Int64, _ interval: KlineInterval) -> Int64 {
        let containing = interval.openTime(containing: time)
        return containing == time ? time : interval.nextOpenTime(after: containing)
    }

    /// The next request, or nil when the backfill is complete.
    public var nextPage: Page? {
        guard nextStart < endOpenTime else { return nil }
        let pageEnd = interval.openTime(Int64(pageLimit), barsAfter: nextStart) - 1
        return Page(startTime: nextStart, endTime: min(pageEnd, endOpenTime - 1), limit: pageLimit)
    }

    /// `page` was answered; `lastOpenTime` is the newest open time it held (nil: none — nothing
    /// exists in its range, so the cursor moves past it; the hole shows as a repair later).
    public mutating func advance(past page: Page, lastOpenTime: Int64?) {
        let next = lastOpenTime.map { interval.nextOpenTime(after: $0) } ?? page.endTime + 1
        nextStart = max(nextStart, next)
    }
}
