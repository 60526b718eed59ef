import GatewayCore

/// A market's answer as gateways share it (`sentiment.updated` on the `news` stream): every
/// gateway on one Redis adopts it, so one call serves them all.
public struct SharedSentiment: Sendable, Equatable {
    /// The market.
    public var market: String
    /// The model's answer.
    public var answer: SentimentAnswer
    /// Wall-clock seconds since the epoch when it arrived.
    public var asOfWall: Double
    /// The market's price when it was asked, if known (the 5 % band is measured from it).
    public var price: Double?

    /// A shared answer.
    public init(market: String, answer: SentimentAnswer, asOfWall: Double, price: Double?) {
        self.market = market
        self.answer = answer
        self.asOfWall = asOfWall
        self.price = price
    }
}

extension SentimentBook {
    /// Several gateways share one Redis: one of them asks for a market at a time, the others
    /// adopt its answer.
    ///
    /// Ask `id` was not made because another gateway is asking for the same market now. Like
    /// `failed` (re-asked a window later, uncounted), but if that gateway's answer arrives before
    /// any further headline (`adopt`), the re-ask is dropped: its answer covers the same news.
    @discardableResult
    public mutating func deferredToPeer(_ id: UInt64, at now: ClockReading) -> Bool {
        guard let (name, _) = inFlight.removeValue(forKey: id) else { return false }
        markets[name]!.inFlight = nil
        markets[name]!.deferredAt = markets[name]!.headlineCount
        if markets[name]!.askAt == nil { markets[name]!.askAt = now.monotonic + config.batchWindow }
        return true
    }

    /// An answer for `shared.market` from any gateway (this one's included: then it is already
    /// here and nothing changes). Kept when newer than the answer held; its TTL runs from its
    /// `asOfWall`. It drops a pending re-ask when `replaying` the stream at start (headlines after
    /// it in the stream re-open the window) or when this gateway's ask was deferred to it and no
    /// headline arrived since. Returns whether it was adopted.
    @discardableResult
    public mutating func adopt(_ shared: SharedSentiment, replaying: Bool = false, at now: ClockReading) -> Bool {
        let name = shared.market
        if markets[name] == nil {
            guard markets.count < config.maxMarkets else { return false }
            markets[name] = Market()
        }
        if let held = markets[name]!.answer, held.asOfWall >= shared.asOfWall - 0.001 { return false }
        let age = max(0, now.wall - shared.asOfWall)
        guard age < config.cacheTTL else { return false }
        markets[name]!.answer = Answer(
            sentiment: shared.answer, asOfWall: shared.asOfWall, answeredAt: now.monotonic - age, price: shared.price)
        let covered = markets[name]!.deferredAt == markets[name]!.headlineCount
        if replaying || covered, markets[name]!.inFlight == nil {
            markets[name]!.askAt = nil
            markets[name]!.deferredAt = nil
        }
        return true
    }

    /// The answer held for `market`, as gateways share it (nil: none).
    public func shared(_ market: String) -> SharedSentiment? {
        guard let answer = markets[market]?.answer else { return nil }
        return SharedSentiment(market: market, answer: answer.sentiment, asOfWall: answer.asOfWall, price: answer.price)
    }
}
