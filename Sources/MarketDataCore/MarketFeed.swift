/// One configured market's ingest policy (SPEC §10), as a pure state machine: the driver feeds it
/// what happened (lease won or lost, a REST page answered or failed, the live stream connected or
/// dropped, a closed bar arrived, time passed) and carries out the actions it returns (fetch a
/// page, append bars, raise an alert, publish a status). No I/O, no clock of its own: times are
/// the exchange's wall milliseconds, passed in.
///
/// The policy:
/// - With the lease, backfill over REST from the stream's last bar (or `backfillBars` back) up to
///   now, page by page, then follow the live stream.
/// - Every bar passes one `KlineSequencer`: closed, strictly after the stream's last, in order.
/// - Live bars that arrive while a catch-up pass runs wait in a bounded buffer and go through the
///   sequencer after it; a pass counts as catching up to the stream only when the stream was
///   connected before the pass began (so no bar closes unseen between the two).
/// - A hole in the live stream starts a catch-up pass; a hole the exchange's REST history cannot
///   fill raises `MARKET_DATA_GAP` naming it, and the bars after it are appended.
/// - A bar whose close is more than one interval in the past when it is appended is history
///   (`backfill`): it warms the engine up without trading.
public struct MarketFeed: Sendable, Equatable {
    /// What the market is doing, for `/v1/markets`.
    public enum Status: String, Sendable, Equatable {
        /// Fetching history over REST (initial backfill, or a repair after a reconnect or a hole).
        case backfilling
        /// Following the live stream, caught up.
        case live
        /// No closed bar for `stale_after_intervals` intervals past due.
        case stale
    }

    /// Something that happened, for the feed to act on.
    public enum Input: Sendable, Equatable {
        /// This gateway holds the market's lease; the stream's last bar opened at `lastOpenTime`.
        case leaseAcquired(lastOpenTime: Int64?)
        /// Another gateway holds it now (or Redis was lost): stop appending.
        case leaseLost
        /// The REST page asked for by `.fetch` answered with `bars` (any order; closed only).
        case page(BackfillCursor.Page, bars: [ExchangeKline])
        /// The REST page failed (the exchange unreachable, a bad answer): asked for again later,
        /// backing off from 1 s doubling to 60 s.
        case pageFailed(BackfillCursor.Page)
        /// The live stream carries this market now.
        case streamConnected
        /// The live stream dropped (it reconnects on its own).
        case streamDisconnected
        /// A closed bar from the live stream.
        case liveBar(ExchangeKline)
        /// Time passed (staleness checks).
        case tick
    }

    /// What the driver must do.
    public enum Action: Sendable, Equatable {
        /// Ask the exchange for `page` over REST and feed back `.page` or `.pageFailed`.
        case fetch(BackfillCursor.Page)
        /// Ask for `page` again after `seconds`.
        case fetchLater(BackfillCursor.Page, seconds: Double)
        /// Append these bars, in order; `backfill` marks history bars.
        case append([Appended])
        /// Raise `risk.alert MARKET_DATA_GAP`: the bars opening in [from, to) do not exist on the
        /// exchange (`missed` of them).
        case gap(from: Int64, to: Int64, missed: Int64)
        /// Raise `risk.alert STALE_MARKET_DATA` (once per stale period).
        case stale(lastOpenTime: Int64?, dueAt: Int64)
        /// Count a dropped bar (duplicate, out of order).
        case drop(MarketDataRejectReason)
        /// The status changed.
        case status(Status)
    }

    /// A bar to append.
    public struct Appended: Sendable, Equatable {
        /// The bar.
        public var kline: ExchangeKline
        /// History (closed more than one interval ago): warms the engine up, does not trade.
        public var backfill: Bool
    }

    private enum Phase: Sendable, Equatable {
        case idle
        case catchingUp(BackfillCursor, streamWasConnected: Bool)
        case live
    }

    /// The market's interval.
    public let interval: KlineInterval
    /// `market_data.backfill_bars`: bars fetched when the stream is empty.
    public let backfillBars: Int
    /// Bars per REST page.
    public let pageLimit: Int
    /// Live bars kept while catching up; older ones are dropped (the next pass fetches them).
    public let bufferLimit: Int

    private var phase = Phase.idle
    private var sequencer: KlineSequencer
    private var staleness: StalenessWatch
    private var buffer: [ExchangeKline] = []
    private var bufferOverflowed = false
    private var streamConnected = false
    private var failures = 0
    private var status: Status?

    /// A feed not yet holding its lease, created at wall time `nowMillis`.
    public init(
        interval: KlineInterval, backfillBars: Int, staleAfterIntervals: Int, nowMillis: Int64, pageLimit: Int = 1000,
        bufferLimit: Int = 1000
    ) {
        self.interval = interval
        self.backfillBars = backfillBars
        self.pageLimit = pageLimit
        self.bufferLimit = max(1, bufferLimit)
        sequencer = KlineSequencer(interval: interval, lastOpenTime: nil)
        staleness = StalenessWatch(
            interval: interval, staleAfterIntervals: staleAfterIntervals, lastOpenTime: nil, nowMillis: nowMillis)
    }

    /// True while this gateway holds the lease and works the market.
    public var isActive: Bool { phase != .idle }

    /// True while the market has had no closed bar for `stale_after_intervals` intervals.
    public var isStale: Bool { staleness.isStale }

    /// Open time of the last bar appended (or found in the stream).
    public var lastOpenTime: Int64? { sequencer.lastOpenTime }

    /// The actions for `input` at wall time `nowMillis`.
    public mutating func handle(_ input: Input, nowMillis: Int64) -> [Action] {
        var out: [Action] = []
        switch input {
        case .leaseAcquired(let last):
            sequencer = KlineSequencer(interval: interval, lastOpenTime: last)
            staleness = StalenessWatch(
                interval: interval, staleAfterIntervals: staleness.staleAfterIntervals, lastOpenTime: last,
                nowMillis: nowMillis)
            clearBuffer()
            status = nil
            startPass(nowMillis: nowMillis, emptyStreamBackfill: true, into: &out)
        case .leaseLost:
            phase = .idle
            clearBuffer()
            status = nil
        case .page(let page, let bars):
            guard case .catchingUp(var cursor, let connected) = phase, cursor.nextPage == page else { break }
            failures = 0
            let newest = appendHistory(bars, nowMillis: nowMillis, into: &out)
            cursor.advance(past: page, lastOpenTime: newest)
            phase = .catchingUp(cursor, streamWasConnected: connected)
            continuePass(nowMillis: nowMillis, into: &out)
        case .pageFailed(let page):
            guard case .catchingUp(let cursor, _) = phase, cursor.nextPage == page else { break }
            failures += 1
            out.append(.fetchLater(page, seconds: min(60, Double(1 << min(failures - 1, 6)))))
        case .streamConnected:
            streamConnected = true
            if phase == .live {
                // A reconnect: fill what closed while the socket was down before resuming.
                startPass(nowMillis: nowMillis, emptyStreamBackfill: false, into: &out)
            }
        case .streamDisconnected:
            streamConnected = false
            // Bars closing while the socket is down reach neither this pass nor the buffer.
            if case .catchingUp(let cursor, _) = phase { phase = .catchingUp(cursor, streamWasConnected: false) }
        case .liveBar(let kline):
            switch phase {
            case .idle: break
            case .catchingUp: hold(kline)
            case .live: offerLive(kline, holesAreGaps: false, nowMillis: nowMillis, into: &out)
            }
        case .tick:
            break
        }
        if isActive, case .raiseStale(let last, let due) = staleness.check(nowMillis: nowMillis) {
            out.append(.stale(lastOpenTime: last, dueAt: due))
            setStatus(.stale, into: &out)
        }
        return out
    }

    /// When the next `.tick` matters (wall ms): the moment the market turns stale.
    public var nextCheckAt: Int64? { isActive && !staleness.isStale ? staleness.staleAt : nil }

    // MARK: passes

    private mutating func startPass(nowMillis: Int64, emptyStreamBackfill: Bool, into out: inout [Action]) {
        let cursor = BackfillCursor(
            interval: interval, lastOpenTime: sequencer.lastOpenTime, backfillBars: emptyStreamBackfill ? backfillBars : 0,
            nowMillis: nowMillis, pageLimit: pageLimit)
        phase = .catchingUp(cursor, streamWasConnected: streamConnected)
        if !staleness.isStale { setStatus(.backfilling, into: &out) }
        continuePass(nowMillis: nowMillis, into: &out)
    }

    private mutating func continuePass(nowMillis: Int64, into out: inout [Action]) {
        guard case .catchingUp(let cursor, let connected) = phase else { return }
        if let next = cursor.nextPage {
            out.append(.fetch(next))
            return
        }
        guard connected else {
            // The stream was not up when this pass began: bars may have closed in between.
            // Another pass once it is (or now, if it came up meanwhile).
            if streamConnected {
                startPass(nowMillis: nowMillis, emptyStreamBackfill: false, into: &out)
            } else {
                phase = .catchingUp(cursor, streamWasConnected: false)
                waitForStream()
            }
            return
        }
        // Caught up to the stream: the buffered bars follow. A hole before one of them is one
        // the exchange's history does not fill (unless the buffer dropped bars: fetch again).
        phase = .live
        let waiting = buffer
        let overflowed = bufferOverflowed
        clearBuffer()
        for (i, kline) in waiting.enumerated() {
            guard phase == .live else {
                for later in waiting[i...] { hold(later) }
                break
            }
            offerLive(kline, holesAreGaps: !overflowed, nowMillis: nowMillis, into: &out)
        }
        if phase == .live, !staleness.isStale { setStatus(.live, into: &out) }
    }

    private mutating func hold(_ kline: ExchangeKline) {
        if buffer.count >= bufferLimit {
            buffer.removeFirst()
            bufferOverflowed = true
        }
        buffer.append(kline)
    }

    private mutating func clearBuffer() {
        buffer.removeAll()
        bufferOverflowed = false
    }

    /// The pass is complete but the stream is down: go live on paper, so the next
    /// `.streamConnected` starts the repair pass.
    private mutating func waitForStream() { phase = .live }

    private mutating func offerLive(_ kline: ExchangeKline, holesAreGaps: Bool, nowMillis: Int64, into out: inout [Action]) {
        switch sequencer.offer(kline) {
        case .append(let k):
            appended([k], nowMillis: nowMillis, into: &out)
        case .drop(let reason):
            out.append(.drop(reason))
        case .ignoreForming:
            break
        case .repair(let from, let to) where holesAreGaps:
            out.append(.gap(from: from, to: to, missed: missedBars(from: from, to: to)))
            if case .append(let k) = sequencer.offerAcrossGap(kline) { appended([k], nowMillis: nowMillis, into: &out) }
        case .repair(_, let to):
            // A hole: fetch it over REST, this bar waits in the buffer. The pass reaches the bar
            // even when the exchange's clock runs ahead of ours.
            hold(kline)
            let cursor = BackfillCursor(
                interval: interval, lastOpenTime: sequencer.lastOpenTime, backfillBars: 0, nowMillis: max(nowMillis, to),
                pageLimit: pageLimit)
            phase = .catchingUp(cursor, streamWasConnected: streamConnected)
            if !staleness.isStale { setStatus(.backfilling, into: &out) }
            continuePass(nowMillis: nowMillis, into: &out)
        }
    }

    /// Appends one page's bars in order; a hole the page should have filled is a gap the exchange
    /// cannot fill. Returns the newest open time in the page.
    private mutating func appendHistory(_ bars: [ExchangeKline], nowMillis: Int64, into out: inout [Action]) -> Int64? {
        var batch: [ExchangeKline] = []
        for kline in bars.sorted(by: { $0.openTime < $1.openTime }) {
            switch sequencer.offer(kline) {
            case .append(let k):
                batch.append(k)
            case .drop(let reason):
                out.append(.drop(reason))
            case .ignoreForming:
                break
            case .repair(let from, let to):
                appended(batch, nowMillis: nowMillis, into: &out)
                batch.removeAll()
                out.append(.gap(from: from, to: to, missed: missedBars(from: from, to: to)))
                if case .append(let k) = sequencer.offerAcrossGap(kline) { batch.append(k) }
            }
        }
        appended(batch, nowMillis: nowMillis, into: &out)
        return bars.map(\.openTime).max()
    }

    private func missedBars(from: Int64, to: Int64) -> Int64 {
        var n: Int64 = 0
        var t = from
        while t < to, n < 1_000_000 {
            n += 1
            t = interval.nextOpenTime(after: t)
        }
        return n
    }

    private mutating func appended(_ klines: [ExchangeKline], nowMillis: Int64, into out: inout [Action]) {
        guard !klines.isEmpty else { return }
        let latestClosed = interval.openTime(-1, barsAfter: interval.openTime(containing: nowMillis))
        out.append(.append(klines.map { Appended(kline: $0, backfill: $0.openTime < latestClosed) }))
        for k in klines { staleness.barClosed(openTime: k.openTime, nowMillis: nowMillis) }
        if phase == .live, !staleness.isStale { setStatus(.live, into: &out) }
    }

    private mutating func setStatus(_ new: Status, into out: inout [Action]) {
        guard status != new else { return }
        status = new
        out.append(.status(new))
    }
}
