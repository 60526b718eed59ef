import Exchanges
import MarketDataCore
import TradingCore

/// `bedrock backfill` (SPEC §10): pages one market's closed bars from an exchange over REST, with
/// the exchange's pacing (`HistoryClient`), into a `BackfillSink`, from `from` up to `to` (or the
/// forming bar), resuming after the last bar the sink already holds.
public struct HistoryBackfill {
    /// Where a run stands, after each page.
    public struct Progress: Sendable, Equatable {
        /// Bars written so far.
        public var written = 0
        /// Pages asked so far.
        public var pages = 0
        /// Open time of the newest bar the exchange answered so far.
        public var reached: Int64?
    }

    /// The exchange's history client.
    public let client: HistoryClient
    /// The market.
    public let symbol: MarketSymbol
    /// The interval.
    public let interval: KlineInterval
    /// The first open time wanted (ms).
    public let from: Int64
    /// Bars opening before this time (ms); nil: up to the forming bar.
    public let to: Int64?

    /// A backfill of `symbol`/`interval` over [`from`, `to`).
    public init(client: HistoryClient, symbol: MarketSymbol, interval: KlineInterval, from: Int64, to: Int64?) {
        self.client = client
        self.symbol = symbol
        self.interval = interval
        self.from = from
        self.to = to
    }

    /// Runs at wall time `nowMillis`: reads where `sink` stands, then pages up to the end, writing
    /// each page before asking the next, and calls `progress` after each page; answers the final
    /// progress. Throws the first `HistoryError` or sink error; what was written stays (a later
    /// run resumes after it).
    public func run<Sink: BackfillSink>(
        into sink: inout Sink, nowMillis: Int64, progress: (Progress) -> Void = { _ in }
    ) throws -> Progress {
        let resumedAfter = try sink.lastOpenTime()
        let start = max(from, resumedAfter.map { interval.nextOpenTime(after: $0) } ?? from)
        var cursor = BackfillCursor(
            interval: interval, from: start, to: to ?? nowMillis, nowMillis: nowMillis, pageLimit: client.maxLimit)
        var state = Progress()
        while let page = cursor.nextPage {
            let klines = try client.page(
                symbol: symbol, interval: interval, startTime: page.startTime, endTime: page.endTime, limit: page.limit)
            state.pages += 1
            state.written += try sink.write(klines.map(\.bar))
            if let newest = klines.last?.openTime { state.reached = newest }
            cursor.advance(past: page, lastOpenTime: klines.last?.openTime)
            progress(state)
        }
        return state
    }
}
