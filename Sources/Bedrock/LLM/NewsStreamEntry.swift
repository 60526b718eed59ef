import Foundation
import JSONCodec
import LLMCore
import TradingCore

/// What the sentiment reader takes from the `news` stream: a headline, or a market's sentiment
/// answer shared by a gateway (this one included).
enum NewsStreamEntry: Sendable, Equatable {
    /// `news.published`.
    case headline(NewsItem)
    /// `sentiment.updated`.
    case sentiment(SharedSentiment)

    /// The entry of a stored event, or nil when it is neither kind or lacks what it needs (the
    /// stream is open to anyone: such entries are skipped, not guessed at).
    static func parse(_ event: JSONObject) -> NewsStreamEntry? {
        switch event["event_type"]?.stringValue {
        case "news.published": return NewsItem.fromEvent(event).map(NewsStreamEntry.headline)
        case "sentiment.updated":
            guard let spelling = event["market"]?.stringValue, let market = MarketName.canonical(spelling),
                let word = event["llm_sentiment"]?.stringValue, let sentiment = LLMSentiment(rawValue: word),
                let reason = event["reason"]?.stringValue, !reason.isEmpty,
                let asOf = event["as_of"]?.stringValue.flatMap(KlineEvent.parseRFC3339)
            else { return nil }
            let price = event["price"]?.doubleValue ?? event["price"]?.stringValue.flatMap { Double($0) }
            return .sentiment(
                SharedSentiment(
                    market: market, answer: SentimentAnswer(sentiment: sentiment, reason: reason),
                    asOfWall: Double(asOf) / 1000, price: price))
        default: return nil
        }
    }

    /// The `sentiment_update.lua` request sharing `shared`, asked by `owner`.
    static func request(_ shared: SharedSentiment, owner: String) -> JSONObject {
        [
            "market": .string(shared.market), "llm_sentiment": .string(shared.answer.sentiment.rawValue),
            "reason": .string(shared.answer.reason), "price": shared.price.map(JSONValue.double) ?? .null,
            "as_of": .string(Timestamp.rfc3339(seconds: shared.asOfWall)), "owner": .string(owner),
        ]
    }
}
