import RedisClient

/// A generated journal entry or review memo, kept in Redis so a trader can download it later:
/// hash `<prefix>llm:journal:{trade_id}` or `<prefix>llm:review:{start}:{end}` with fields
/// `markdown` and `generated_at` (RFC 3339 UTC). Kept without expiry; generating again replaces it.
enum GeneratedMarkdown: Sendable, Equatable {
    /// The journal entry of a trade.
    case journal(tradeID: Int64)
    /// The review memo of a period.
    case review(ReviewPeriod)

    /// The hash holding it.
    func key(prefix: String) -> String {
        switch self {
        case .journal(let id): return "\(prefix)llm:journal:\(id)"
        case .review(let period): return "\(prefix)llm:review:\(period.start):\(period.end)"
        }
    }

    /// The file name of its download.
    var filename: String {
        switch self {
        case .journal(let id): return "journal-trade-\(id).md"
        case .review(let period): return "review-\(period.start)-\(period.end).md"
        }
    }

    /// The REST path of its download.
    var downloadPath: String {
        switch self {
        case .journal(let id): return "/v1/journal/\(id)/markdown"
        case .review(let period): return "/v1/review/markdown?start_date=\(period.start)&end_date=\(period.end)"
        }
    }

    /// What a download answers before it was generated.
    var notGenerated: APIError {
        switch self {
        case .journal(let id):
            return APIError(.notFound, "no journal entry for trade \(id) yet (generate it with journal.generate)")
        case .review(let period):
            return APIError(
                .notFound, "no review of \(period.start) to \(period.end) yet (generate it with review.generate)")
        }
    }

    /// Stores `markdown`, generated at `generatedAt`, replacing an earlier one.
    func store(_ markdown: String, generatedAt: String, prefix: String, on connection: RedisConnection) throws {
        _ = try connection.command(["HSET", key(prefix: prefix), "markdown", markdown, "generated_at", generatedAt])
            .checked()
    }

    /// The stored Markdown, nil before it was generated.
    func load(prefix: String, on connection: RedisConnection) throws -> String? {
        try connection.command(["HGET", key(prefix: prefix), "markdown"]).checked().string
    }
}
