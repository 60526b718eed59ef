import TradingCore

/// The sentiment book's limits (from `llm.*`; times in seconds on the monotonic clock).
public struct SentimentBookConfig: Sendable, Equatable {
    /// How long an answer stays valid (`llm.cache_ttl_s`, 3600).
    public var cacheTTL: Double
    /// How long headlines for a market gather before one ask covers them all.
    public var batchWindow: Double
    /// Sentiment asks in flight at once, over all markets (`llm.max_concurrency`, 2).
    public var maxConcurrency: Int
    /// Newest headlines kept per market for the next ask; older ones are dropped from the book
    /// (not from the `news` stream).
    public var maxHeadlinesPerMarket: Int
    /// Characters of a headline's title kept for the prompt.
    public var maxTitleLength: Int
    /// Markets the book tracks; news for a further market gets no sentiment.
    public var maxMarkets: Int
    /// Relative price move from the price at the answer that invalidates it (0.05: more than 5 %).
    public var invalidatingMove: Double
    /// Longest wait before re-asking a market whose asks keep failing, in seconds.
    public var maxRetryDelay: Double

    /// The limits, with SPEC §12's defaults.
    public init(
        cacheTTL: Double = 3600, batchWindow: Double = 5, maxConcurrency: Int = 2, maxHeadlinesPerMarket: Int = 20,
        maxTitleLength: Int = 300, maxMarkets: Int = 1000, invalidatingMove: Double = 0.05, maxRetryDelay: Double = 300
    ) {
        self.maxRetryDelay = maxRetryDelay
        self.cacheTTL = cacheTTL
        self.batchWindow = batchWindow
        self.maxConcurrency = max(1, maxConcurrency)
        self.maxHeadlinesPerMarket = max(1, maxHeadlinesPerMarket)
        self.maxTitleLength = max(1, maxTitleLength)
        self.maxMarkets = max(1, maxMarkets)
        self.invalidatingMove = invalidatingMove
    }
}

/// One headline as the sentiment prompt needs it.
public struct NewsHeadline: Sendable, Equatable {
    /// The title (cut to `maxTitleLength` by the book).
    public var title: String
    /// Who published it.
    public var source: String

    /// A headline.
    public init(title: String, source: String) {
        self.title = title
        self.source = source
    }
}

/// What the book did with a headline. In every case the caller still stores it in `news`.
public enum NewsIntake: Sendable, Equatable {
    /// Kept for the market's next ask.
    case queued
    /// Kept; the market's oldest kept headline was dropped to stay within the bound.
    case queuedDroppingOldest
    /// Not kept: the book already tracks `maxMarkets` other markets.
    case tooManyMarkets
}

/// An action: ask the model for `market`'s sentiment from `headlines` (oldest first). Report the
/// result with `answered(_:_:at:)` or `failed(_:at:)` and this `id`.
public struct SentimentAsk: Sendable, Equatable {
    /// Serial number the answer is matched by.
    public let id: UInt64
    /// The market.
    public let market: String
    /// The market's recent headlines, oldest first.
    public let headlines: [NewsHeadline]
    /// The latest price the book saw for the market (the prompt's `price`), if any; an answer is
    /// invalidated by a move from this price.
    public let price: Double?
}

/// Where a sentiment reading comes from (`source` of `GET /v1/sentiment`).
public enum SentimentSource: String, Sendable, Equatable {
    /// A model answer read for the first time since it arrived.
    case llm
    /// A model answer read again, still within its TTL and price band.
    case cache
    /// No valid answer: NEUTRAL.
    case fallback
}

/// A market's sentiment as a signal or `GET /v1/sentiment` sees it.
public struct SentimentReading: Sendable, Equatable {
    /// The market.
    public let market: String
    /// The sentiment (NEUTRAL for a fallback).
    public let sentiment: LLMSentiment
    /// The model's reason; nil for a fallback.
    public let reason: String?
    /// Wall-clock seconds since the epoch when the answer arrived; nil for a fallback.
    public let asOf: Double?
    /// Where it comes from.
    public let source: SentimentSource

    static func fallback(_ market: String) -> SentimentReading {
        SentimentReading(market: market, sentiment: .neutral, reason: nil, asOf: nil, source: .fallback)
    }
}
