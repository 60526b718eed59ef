import JSONCodec
import LLMCore
import RedisClient

/// The LLM layer's API methods (SPEC §12), in the one method table (REST and socket alike):
///
/// | method | route | role | params | answer |
/// |---|---|---|---|---|
/// | `news.publish` | `POST /v1/news` | TRADER | `title`, `source`, `market`?, `body`?, `url`?, `published_at`? | `{"event_id","market","published_at"}` |
/// | `sentiment.get` | `GET /v1/sentiment` | VIEWER | `market`? | `{market, llm_sentiment, reason, as_of, source}`; without `market`, `{"data":[...]}` for every market tracked |
///
/// `news.publish` stores the headline whether or not a model is configured (the stream is the
/// record; the sentiment reader takes it from there). Bad input is BAD_REQUEST naming the field
/// and appends nothing. With no provider, `sentiment.get` answers `llm_sentiment` null.
public enum LLMMethods {
    /// Registers the two methods in `table`; `service` nil: no provider.
    public static func register(in table: MethodTable, ledger: Ledger, pool: RedisPool, service: LLMService?) {
        table.register(
            .pooled(.newsPublish, pool: pool, label: Method.newsPublish.rawValue) { call, _, c in
                let item = try NewsItem.parse(call.params, now: Timestamp.now())
                let write = try ledger.run("news_publish", item.request, on: c)
                guard write.status == "published", let id = write.eventID else {
                    throw APIError(.internal, "news_publish answered \(write.status)")
                }
                return ["event_id": .string(id), "market": .optional(item.market), "published_at": .string(item.publishedAt)]
            })
        let sentiment: @Sendable (MethodCall) -> Result<JSONValue, APIError> = { call in
            Result { () throws(APIError) in try sentimentAnswer(call.params, service: service) }
        }
        table.register(inline: InlineHandler(.sentimentGet) { sentiment($0) })
        table.register(MethodHandler(.sentimentGet, run: sentiment))
    }

    /// `sentiment.get`'s answer.
    static func sentimentAnswer(_ params: JSONObject, service: LLMService?) throws(APIError) -> JSONValue {
        let market: String?
        switch params["market"] {
        case nil, .null?: market = nil
        case .string(let spelling)? where spelling.isEmpty: market = nil
        case .string(let spelling)?:
            guard let canonical = MarketName.canonical(spelling) else {
                throw APIError(.badRequest, "bad market \"\(spelling)\": \(MarketName.rule)")
            }
            market = canonical
        default: throw APIError(.badRequest, "market must be a string")
        }
        guard let service else {
            let none: (String) -> JSONValue = { m in
                ["market": .string(m), "llm_sentiment": .null, "reason": .null, "as_of": .null, "source": "fallback"]
            }
            return market.map(none) ?? ["data": .array([])]
        }
        if let market { return json(service.reading(market)) }
        return ["data": .array(service.readings().map(json))]
    }

    /// One reading as `sentiment.get` answers it.
    static func json(_ r: SentimentReading) -> JSONValue {
        [
            "market": .string(r.market), "llm_sentiment": .string(r.sentiment.rawValue), "reason": .optional(r.reason),
            "as_of": r.asOf.map { .string(Timestamp.rfc3339(seconds: $0)) } ?? .null, "source": .string(r.source.rawValue),
        ]
    }
}
