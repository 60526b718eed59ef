import Foundation
import JSONCodec
import LLMCore

/// One headline of the `news` stream (`news.published`, SPEC §12), checked: what `news.publish`
/// accepts and what the sentiment reader takes from the stream (which anyone may append to).
public struct NewsItem: Sendable, Equatable {
    /// The canonical market it is about, or nil: news for every market the gateway tracks.
    public var market: String?
    /// The headline.
    public var title: String
    /// Longer text, if any (stored, not sent to the model).
    public var body: String?
    /// Who published it.
    public var source: String
    /// A link to it (http or https).
    public var url: String?
    /// When it was published (RFC 3339).
    public var publishedAt: String

    /// Longest `title`, in characters.
    public static let maxTitle = 500
    /// Longest `body`, in characters.
    public static let maxBody = 20_000
    /// Longest `source`, in characters.
    public static let maxSource = 100
    /// Longest `url`, in characters.
    public static let maxURL = 2_000

    /// The item a `news.publish` call asks for; BAD_REQUEST naming the field otherwise.
    /// `published_at` defaults to `now` (RFC 3339); a market in any accepted spelling is stored
    /// canonical.
    public static func parse(_ params: JSONObject, now: String) throws(APIError) -> NewsItem {
        func text(_ name: String, max: Int, required: Bool) throws(APIError) -> String? {
            guard let v = params[name], !v.isNull else {
                if required { throw APIError(.badRequest, "\(name) is required") }
                return nil
            }
            guard let s = v.stringValue else { throw APIError(.badRequest, "\(name) must be a string") }
            let trimmed = s.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty {
                if required { throw APIError(.badRequest, "\(name) must not be empty") }
                return nil
            }
            guard trimmed.count <= max else {
                throw APIError(.badRequest, "\(name) is too long: \(trimmed.count) characters, at most \(max)")
            }
            return trimmed
        }
        var item = NewsItem(
            market: nil, title: try text("title", max: maxTitle, required: true)!,
            body: try text("body", max: maxBody, required: false),
            source: try text("source", max: maxSource, required: true)!,
            url: try text("url", max: maxURL, required: false), publishedAt: now)
        if let spelling = try text("market", max: 64, required: false) {
            guard let canonical = MarketName.canonical(spelling) else {
                throw APIError(.badRequest, "bad market \"\(spelling)\": \(MarketName.rule)")
            }
            item.market = canonical
        }
        if let url = item.url {
            let lower = url.lowercased()
            guard (lower.hasPrefix("http://") || lower.hasPrefix("https://")), !url.contains(where: \.isWhitespace) else {
                throw APIError(.badRequest, "url must be an http:// or https:// address without spaces")
            }
        }
        if let at = try text("published_at", max: 64, required: false) {
            guard let millis = KlineEvent.parseRFC3339(at) else {
                throw APIError(.badRequest, "published_at must be an RFC 3339 date-time, e.g. 2026-12-07T09:30:00Z")
            }
            item.publishedAt = Timestamp.rfc3339(millis: millis)
        }
        return item
    }

    /// The item in a stored `news.published` event, or nil without a usable title.
    static func fromEvent(_ event: JSONObject) -> NewsItem? {
        guard let title = event["title"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines), !title.isEmpty
        else { return nil }
        let market = event["market"]?.stringValue.flatMap { MarketName.canonical($0) }
        let source = event["source"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines)
        return NewsItem(
            market: market, title: String(title.prefix(maxTitle)), body: nil,
            source: String((source?.isEmpty == false ? source! : "unknown").prefix(maxSource)), url: nil,
            publishedAt: event["published_at"]?.stringValue ?? event["timestamp"]?.stringValue ?? "")
    }

    /// The request of `news_publish.lua`.
    var request: JSONObject {
        [
            "market": .optional(market), "title": .string(title), "body": .optional(body), "source": .string(source),
            "url": .optional(url), "published_at": .string(publishedAt),
        ]
    }

    /// The headline as the sentiment book keeps it.
    var headline: NewsHeadline { NewsHeadline(title: title, source: source) }
}
