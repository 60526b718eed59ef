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
///   has headlines younger than `cacheTTL`, re-asked at once (next `due`, after any ask in
///   flight); headlines older than that are dropped, so old news does not keep a sentiment
///   alive. Only a lookup or a bar (`observe`) notices this, so a market with neither costs no
///   calls.
/// - Bounds: `maxHeadlinesPerMarket` newest headlines per market, `maxMarkets` markets (the
///   least recently touched one makes room for a new one).
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
        /// When each of `headlines` arrived (monotonic), oldest first.
        var arrivals: [Double] = []
        /// Last time anything touched the market (news, a bar, a read): the least recently
        /// touched market is dropped when the book is full.
        var touchedAt: Double = 0
        var askAt: Double?
        var inFlight: UInt64?
        var lastPrice: Double?
        var answer: Answer?
        /// Headlines that ever arrived (a deferred ask compares it to know whether a peer's answer
        /// covers them all).
        var headlineCount: UInt64 = 0
        /// `headlineCount` when an ask was left to a peer gateway, until its answer arrives.
        var deferredAt: UInt64?
        /// Asks failed in a row (the retry delay doubles with each).
        var failures = 0
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
        guard markets[market] != nil || makeRoom() else { return .tooManyMarkets }
        var state = markets[market] ?? Market()
        state.touchedAt = now.monotonic
        markets[market] = nil  // keeps `state.headlines` uniquely referenced: appends do not copy
        defer { markets[market] = state }
        var kept = headline
        if kept.title.count > config.maxTitleLength { kept.title = String(kept.title.prefix(config.maxTitleLength)) }
        state.headlines.append(kept)
        state.arrivals.append(now.monotonic)
        state.headlineCount += 1
        if state.askAt == nil { state.askAt = now.monotonic + config.batchWindow }
        guard state.headlines.count > config.maxHeadlinesPerMarket else { return .queued }
        state.headlines.removeFirst()
        state.arrivals.removeFirst()
        return .queuedDroppingOldest
    }

    /// Frees a place for a new market when the book is full: the least recently touched market
    /// with no ask in flight goes (its answer and headlines with it). False when none can.
    mutating func makeRoom() -> Bool {
        guard markets.count >= config.maxMarkets else { return true }
        guard let oldest = markets.filter({ $0.value.inFlight == nil }).min(by: { $0.value.touchedAt < $1.value.touchedAt })
        else { return false }
        markets[oldest.key] = nil
        return true
    }

    /// Drops `market`'s headlines older than the cache TTL (old news is not asked about again);
    /// true when some remain.
    private mutating func dropStaleHeadlines(_ market: String, at now: ClockReading) -> Bool {
        let oldestKept = now.monotonic - config.cacheTTL
        let stale = markets[market]!.arrivals.prefix(while: { $0 < oldestKept }).count
        if stale > 0 {
            markets[market]!.arrivals.removeFirst(stale)
            markets[market]!.headlines.removeFirst(stale)
        }
        return !markets[market]!.headlines.isEmpty
    }

    /// The asks to start now: markets whose window has closed and that have no ask in flight,
    /// longest waiting first, up to the free concurrency; none while `outage` forbids calls.
    public mutating func due(at now: ClockReading, outage: OutagePolicy) -> [SentimentAsk] {
        let free = config.maxConcurrency - inFlight.count
        guard free > 0, outage.mayCall(at: now) else { return [] }
        let windowsClosed = markets.compactMap { name, market -> (String, Double)? in
            guard market.inFlight == nil, let askAt = market.askAt, askAt <= now.monotonic else { return nil }
            return (name, askAt)
        }
        var ready: [(String, Double)] = []
        for (name, askAt) in windowsClosed {
            if dropStaleHeadlines(name, at: now) { ready.append((name, askAt)) } else { markets[name]!.askAt = nil }
        }
        let chosen = ready.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .prefix(free)
        return chosen.map { name, _ in
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
        markets[name]!.failures = 0
        markets[name]!.answer = Answer(
            sentiment: answer, asOfWall: now.wall, answeredAt: now.monotonic, price: price ?? markets[name]!.lastPrice)
        return true
    }

    /// Ask `id` failed (any outcome but ok). The market is asked again one window later, then
    /// after 2, 4, 8… windows while its asks keep failing (at most `maxRetryDelay`), so a dead
    /// model is not called every window for every market. Returns false for an unknown or
    /// already settled ask.
    public mutating func failed(_ id: UInt64, at now: ClockReading) -> Bool {
        guard let (name, _) = inFlight.removeValue(forKey: id) else { return false }
        markets[name]!.inFlight = nil
        let failures = markets[name]!.failures
        markets[name]!.failures = failures + 1
        let delay = min(config.maxRetryDelay, max(config.batchWindow, 0.05) * Double(1 << min(failures, 16)))
        if markets[name]!.askAt == nil { markets[name]!.askAt = now.monotonic + delay }
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
            guard makeRoom() else { return }
            markets[market] = Market()
        }
        markets[market]!.touchedAt = now.monotonic
        _ = validAnswer(market, price: price, at: now)
    }

    /// `market`'s sentiment now, at `price` (the market's latest price, if known; it is
    /// remembered for the next ask). Drops an answer past its TTL or more than `invalidatingMove`
    /// from its price, and schedules a re-ask; with no valid answer, NEUTRAL from `fallback`.
    /// A market the book does not track is not added.
    /// `markRead` false leaves the answer's first read (`source: llm`) to someone else (the bar
    /// path reads without marking).
    public mutating func lookup(
        _ market: String, price: Double?, markRead: Bool = true, at now: ClockReading
    ) -> SentimentReading {
        guard var answer = validAnswer(market, price: price, at: now) else { return .fallback(market) }
        let source: SentimentSource = answer.read ? .cache : .llm
        answer.read = answer.read || markRead
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
        state.touchedAt = now.monotonic
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
            // Re-asked only with news younger than the TTL: old news does not keep a sentiment alive.
            if let newest = state.arrivals.last, newest >= now.monotonic - config.cacheTTL {
                state.askAt = min(state.askAt ?? now.monotonic, now.monotonic)
            }
            return nil
        }
        state.answer = answer
        return answer
    }
}
