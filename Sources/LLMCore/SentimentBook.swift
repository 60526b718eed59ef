import GatewayCore

/// The per-market sentiment state machine (SPEC §12), pure: no threads, no I/O, time injected as
/// `ClockReading` (monotonic seconds for deadlines, wall seconds for `asOf`). The gateway feeds it
/// headlines and prices, carries out the `SentimentAsk`s it returns and reports each result.
///
/// - Coalescing: the first headline for a market after its last ask opens a `batchWindow`; when
///   it closes, one ask carries the market's newest `maxHeadlinesPerMarket` headlines. News asks for
///   a market are therefore at least a window apart, and a burst costs one ask per market per
///   window. A market has at most one ask in flight; at most `maxConcurrency` over all markets.
/// - Cache: an answer is valid for `cacheTTL` and while the price stays within
///   `invalidatingMove` of the price at the ask. An invalid answer is dropped and, if the market
///   has headlines, re-asked at once (next `due`, after any ask in flight). Only a lookup
///   notices this, so a market nobody reads costs no calls.
/// - Failure: the market is re-asked one window later; a still-valid earlier answer keeps being
///   served meanwhile. `due` starts nothing while the `OutagePolicy` forbids calls.
public struct SentimentBook: Sendable {
    struct Answer: Sendable {
        var sentiment: SentimentAnswer
        var asOfWall: Double
        var answeredAt: Double
        var price: Double?
        var read = false
    }

    struct Market: Sendable {
        var headlines: [NewsHeadline] = []
        var askAt: Double?
        var inFlight: UInt64?
        var lastPrice: Double?
        var answer: Answer?
        /// Headlines that ever arrived (a deferred ask compares it to know whether a peer's answer
        /// covers them all).
        var headlineCount: UInt64 = 0
        /// `headlineCount` when an ask was left to a peer gateway, until its answer arrives.
        var deferredAt: UInt64?
    }

    /// The limits.
    public let config: SentimentBookConfig
    var markets: [String: Market] = [:]
    var inFlight: [UInt64: (market: String, price: Double?)] = [:]
    var nextID: UInt64 = 1

    /// An empty book.
    public init(config: SentimentBookConfig = SentimentBookConfig()) {
        self.config = config
    }

    /// Asks in flight now.
    public var inFlightCount: Int { inFlight.count }

    /// Headlines kept for `market` (at most `maxHeadlinesPerMarket`).
    public func keptHeadlines(_ market: String) -> [NewsHeadline] { markets[market]?.headlines ?? [] }

    /// A headline for `market` arrived. Keeps it for the next ask (bounded) and opens the batch
    /// window if none is open.
    public mutating func newsArrived(_ market: String, _ headline: NewsHeadline, at now: ClockReading) -> NewsIntake {
        if markets[market] == nil, markets.count >= config.maxMarkets { return .tooManyMarkets }
        var state = markets[market] ?? Market()
        markets[market] = nil  // keeps `state.headlines` uniquely referenced: appends do not copy
        defer { markets[market] = state }
        var kept = headline
        if kept.title.count > config.maxTitleLength { kept.title = String(kept.title.prefix(config.maxTitleLength)) }
        state.headlines.append(kept)
        state.headlineCount += 1
        if state.askAt == nil { state.askAt = now.monotonic + config.batchWindow }
        guard state.headlines.count > config.maxHeadlinesPerMarket else { return .queued }
        state.headlines.removeFirst()
        return .queuedDroppingOldest
    }

    /// The asks to start now: markets whose window has closed and that have no ask in flight,
    /// longest waiting first, up to the free concurrency; none while `outage` forbids calls.
    public mutating func due(at now: ClockReading, outage: OutagePolicy) -> [SentimentAsk] {
        let free = config.maxConcurrency - inFlight.count
        guard free > 0, outage.mayCall(at: now) else { return [] }
        let ready = markets.compactMap { name, market -> (String, Double)? in
            guard market.inFlight == nil, let askAt = market.askAt, askAt <= now.monotonic else { return nil }
            return (name, askAt)
        }
        .sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
        .prefix(free)
        return ready.map { name, _ in
            let id = nextID
            nextID += 1
            markets[name]!.askAt = nil
            markets[name]!.inFlight = id
            let price = markets[name]!.lastPrice
            inFlight[id] = (name, price)
            return SentimentAsk(id: id, market: name, headlines: markets[name]!.headlines, price: price)
        }
    }

    /// The model answered ask `id`. Returns false for an unknown or already settled ask.
    public mutating func answered(_ id: UInt64, _ answer: SentimentAnswer, at now: ClockReading) -> Bool {
        guard let (name, price) = inFlight.removeValue(forKey: id) else { return false }
        markets[name]!.inFlight = nil
        markets[name]!.answer = Answer(
            sentiment: answer, asOfWall: now.wall, answeredAt: now.monotonic, price: price ?? markets[name]!.lastPrice)
        return true
    }

    /// Ask `id` failed (any outcome but ok). The market is asked again one window later. Returns
    /// false for an unknown or already settled ask.
    public mutating func failed(_ id: UInt64, at now: ClockReading) -> Bool {
        guard let (name, _) = inFlight.removeValue(forKey: id) else { return false }
        markets[name]!.inFlight = nil
        if markets[name]!.askAt == nil { markets[name]!.askAt = now.monotonic + config.batchWindow }
        return true
    }

    /// Markets the book tracks (with news or a price seen), sorted.
    public var trackedMarkets: [String] { markets.keys.sorted() }

    /// `market` traded at `price` (a closed bar): remembered for the next ask, and the cached
    /// answer is dropped (and re-asked, if the market has headlines) when it expired or the price
    /// moved more than `invalidatingMove` from the price at the answer. Adds the market to the
    /// book (up to `maxMarkets`), so headlines without a market reach it. Never marks the answer
    /// read.
    public mutating func observe(_ market: String, price: Double, at now: ClockReading) {
        if markets[market] == nil {
            guard markets.count < config.maxMarkets else { return }
            markets[market] = Market()
        }
        _ = validAnswer(market, price: price, at: now)
    }

    /// `market`'s sentiment now, at `price` (the market's latest price, if known; it is
    /// remembered for the next ask). Drops an answer past its TTL or more than `invalidatingMove`
    /// from its price, and schedules a re-ask; with no valid answer, NEUTRAL from `fallback`.
    /// A market the book does not track is not added.
    public mutating func lookup(_ market: String, price: Double?, at now: ClockReading) -> SentimentReading {
        guard var answer = validAnswer(market, price: price, at: now) else { return .fallback(market) }
        let source: SentimentSource = answer.read ? .cache : .llm
        answer.read = true
        markets[market]!.answer = answer
        return SentimentReading(
            market: market, sentiment: answer.sentiment.sentiment, reason: answer.sentiment.reason,
            asOf: answer.asOfWall, source: source)
    }

    /// The market's answer if still valid at `price` and `now`; drops an invalid one (scheduling a
    /// re-ask when the market has headlines). Remembers `price`.
    private mutating func validAnswer(_ market: String, price: Double?, at now: ClockReading) -> Answer? {
        guard var state = markets.removeValue(forKey: market) else { return nil }
        defer { markets[market] = state }
        if let price { state.lastPrice = price }
        guard var answer = state.answer else { return nil }
        if answer.price == nil { answer.price = price }
        let expired = now.monotonic >= answer.answeredAt + config.cacheTTL
        var moved = false
        if let price, let base = answer.price, base > 0 {
            moved = abs(price - base) / base > config.invalidatingMove
        }
        if expired || moved {
            state.answer = nil
            if !state.headlines.isEmpty { state.askAt = min(state.askAt ?? now.monotonic, now.monotonic) }
            return nil
        }
        state.answer = answer
        return answer
    }
}
