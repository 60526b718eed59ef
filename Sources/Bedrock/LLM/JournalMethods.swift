import JSONCodec
import LLMCore
import RedisClient

/// The journal and review methods (SPEC §12), in the one method table (REST and socket alike),
/// and the downloads of what they wrote (REST only):
///
/// | method / route | role | params | answer |
/// |---|---|---|---|
/// | `journal.generate` — `POST /v1/journal/generate` | TRADER | `trade_id` | `{"trade_id","markdown","download"}` |
/// | `review.generate` — `POST /v1/review/generate` | TRADER | `start_date`, `end_date` (YYYY-MM-DD, UTC, inclusive, at most 366 days) | `{"start_date","end_date","trade_count","truncated","markdown","download"}` |
/// | `GET /v1/journal/{trade_id}/markdown` | VIEWER | – | `text/markdown` attachment `journal-trade-{id}.md` |
/// | `GET /v1/review/markdown?start_date=&end_date=` | VIEWER | – | `text/markdown` attachment `review-{start}-{end}.md` |
///
/// Bedrock computes every fact (`JournalFacts`, `ReviewFacts`) from the ledger and gives them to
/// the model through the `LLMWriter`; the Markdown it answers is stored (`GeneratedMarkdown`) and
/// returned. No writer (no provider configured): both methods answer UNAVAILABLE and touch
/// nothing. A missing or malformed id or date is BAD_REQUEST naming the field; an unknown trade,
/// or a download not generated yet, NOT_FOUND. A model that gives no usable answer is the
/// writer's UNAVAILABLE; nothing is stored then.
///
/// Timing: the Redis reads run under the table's deadline like any call; the model call may then
/// take up to the allowance given to `register` (`answerWithin`); the final write has its own
/// `callTimeout`. At most `concurrentCalls` of the two methods run at once (each holds an API
/// worker while the model writes); more are UNAVAILABLE at once (`GenerationGate`).
public enum JournalMethods {
    /// The answer of both methods when no provider is configured.
    public static let unavailable = APIError(.unavailable, "no LLM provider configured (llm.provider is none)")

    /// The content type of the downloads.
    static let markdownType = "text/markdown; charset=utf-8"

    /// Journal and review calls running at once by default (of `server.api_workers`, 16 by default).
    public static let defaultConcurrentCalls = 4

    /// Registers the two methods and their downloads in `table`, on `pool` connections, writing
    /// with `writer` (nil: no provider). `answerWithin`: seconds the two methods' answers may take
    /// beyond the table's `callTimeout` (the writer's longest wait: a slot, then the model's
    /// timeout, plus a margin). `concurrentCalls`: how many of them may run at once.
    public static func register(
        in table: MethodTable, ledger: Ledger, pool: RedisPool, writer: (any LLMWriter)?, answerWithin: Double,
        concurrentCalls: Int = defaultConcurrentCalls
    ) {
        table.allowLonger(.journalGenerate, by: answerWithin)
        table.allowLonger(.reviewGenerate, by: answerWithin)
        let prefix = ledger.prefix
        let gate = GenerationGate(limit: concurrentCalls)
        let stopping = APIError(.unavailable, "the gateway is shutting down")
        /// A generating method: with a writer, through the gate, under `answer`'s error mapping.
        func generating(
            _ method: Method,
            _ body: @escaping @Sendable (JSONObject, MethodTable, any LLMWriter) throws -> JSONValue
        ) -> MethodHandler {
            MethodHandler(method) { [weak table] call in
                // Weak: the table holds this handler (a strong capture would be a cycle).
                guard let table else { return .failure(stopping) }
                return answer(table, method.rawValue) {
                    guard let writer else { throw unavailable }
                    return try gate.pass { try body(call.params, table, writer) }
                }
            }
        }
        table.register(
            generating(.journalGenerate) { params, table, writer in
                try journal(params, prefix: prefix, table: table, pool: pool, writer: writer)
            })
        table.register(
            generating(.reviewGenerate) { params, table, writer in
                try review(params, ledger: ledger, table: table, pool: pool, writer: writer)
            })
        table.register(
            download: DownloadRoute("/v1/journal/{trade_id}/markdown", leastRole: .viewer) { [weak table] call in
                // Weak: the table holds this handler (a strong capture would be a cycle).
                guard let table else { return .failure(stopping) }
                return answer(table, "journal download") {
                    try download(.journal(tradeID: try tradeID(call.params)), prefix: prefix, pool: pool)
                }
            })
        table.register(
            download: DownloadRoute("/v1/review/markdown", leastRole: .viewer) { [weak table] call in
                // Weak: the table holds this handler (a strong capture would be a cycle).
                guard let table else { return .failure(stopping) }
                return answer(table, "review download") {
                    try download(.review(try period(call.params)), prefix: prefix, pool: pool)
                }
            })
    }

    /// `journal.generate`: the trade's facts → the model → stored and answered.
    static func journal(
        _ params: JSONObject, prefix: String, table: MethodTable, pool: RedisPool, writer: any LLMWriter
    ) throws -> JSONValue {
        let id = try tradeID(params)
        let (trade, signal) = try pool.with { c -> ([String: String], [String: String]?) in
            let trade = try c.command(["HGETALL", LedgerRecord.trade.key(prefix: prefix, id: id)]).checked().hash
            guard !trade.isEmpty else { throw APIError(.notFound, "no trade with id \(id)") }
            guard let signalID = trade["signal_id"].flatMap({ Int64($0) }) else { return (trade, nil) }
            let signal = try c.command(["HGETALL", LedgerRecord.signal.key(prefix: prefix, id: signalID)]).checked().hash
            return (trade, signal.isEmpty ? nil : signal)
        }
        let markdown = try writer.write(.journal, values: JournalFacts.values(trade: trade, signal: signal))
        let document = GeneratedMarkdown.journal(tradeID: id)
        try keep(document, markdown, prefix: prefix, table: table, pool: pool)
        return ["trade_id": .int(id), "markdown": .string(markdown), "download": .string(document.downloadPath)]
    }

    /// `review.generate`: the period's trades and metrics → the model → stored and answered.
    static func review(
        _ params: JSONObject, ledger: Ledger, table: MethodTable, pool: RedisPool, writer: any LLMWriter
    ) throws -> JSONValue {
        let period = try period(params)
        let prefix = ledger.prefix
        let (scan, initial) = try pool.with { c in
            let scan = try ReviewTradeScan.trades(in: period, prefix: prefix, on: c)
            let stored = try c.command(["HGET", prefix + "account", "initial_balance"]).checked().string
            return (scan, stored.flatMap(Money.units) ?? Money.units(Money.text(ledger.settings.initialBalance)) ?? 0)
        }
        let values = ReviewFacts.values(
            period: period, trades: scan.trades, initialBalance: initial, truncated: scan.truncated)
        let markdown = try writer.write(.review, values: values)
        let document = GeneratedMarkdown.review(period)
        try keep(document, markdown, prefix: prefix, table: table, pool: pool)
        return [
            "start_date": .string(period.start), "end_date": .string(period.end),
            "trade_count": .int(Int64(scan.trades.count)), "truncated": .bool(scan.truncated),
            "markdown": .string(markdown), "download": .string(document.downloadPath),
        ]
    }

    /// Stores what the model wrote, with Redis time of its own (the model call used the call's).
    private static func keep(
        _ document: GeneratedMarkdown, _ markdown: String, prefix: String, table: MethodTable, pool: RedisPool
    ) throws {
        try table.boundedLikeACall {
            try pool.with { c in
                try document.store(
                    markdown, generatedAt: Timestamp.rfc3339(millis: Timestamp.nowMillis()), prefix: prefix, on: c)
            }
        }
    }

    /// The stored Markdown of `document` as a `.md` attachment; NOT_FOUND before it was generated.
    static func download(_ document: GeneratedMarkdown, prefix: String, pool: RedisPool) throws -> Download {
        guard let markdown = try pool.with({ try document.load(prefix: prefix, on: $0) }) else {
            throw document.notGenerated
        }
        return Download(contentType: markdownType, filename: document.filename, body: Array(markdown.utf8))
    }

    /// `trade_id`: a positive integer (JSON integer or decimal text); BAD_REQUEST otherwise.
    static func tradeID(_ params: JSONObject) throws(APIError) -> Int64 {
        guard let raw = params["trade_id"], !raw.isNull, raw.stringValue != "" else {
            throw APIError(.badRequest, "trade_id is required (a trade id)")
        }
        guard let id = raw.intValue ?? raw.stringValue.flatMap({ Int64($0) }), id > 0 else {
            throw APIError(.badRequest, "trade_id must be a positive integer")
        }
        return id
    }

    /// `start_date` and `end_date` as a `ReviewPeriod`; BAD_REQUEST naming the field otherwise.
    static func period(_ params: JSONObject) throws(APIError) -> ReviewPeriod {
        func date(_ name: String) throws(APIError) -> String? {
            guard let raw = params[name], !raw.isNull else { return nil }
            guard let text = raw.stringValue else { throw APIError(.badRequest, "\(name) must be a date YYYY-MM-DD (UTC)") }
            return text
        }
        return try ReviewPeriod(startDate: date("start_date"), endDate: date("end_date"))
    }

    /// `body`'s value, or its error as an API error: an `APIError` as thrown; a broken Redis
    /// connection → UNAVAILABLE "the ledger store is unreachable" (and `redisHealth` checks Redis:
    /// the table leaves that to these methods); anything else → INTERNAL prefixed with `label`.
    private static func answer<T>(
        _ table: MethodTable, _ label: String, _ body: () throws -> T
    ) -> Result<T, APIError> {
        do {
            return .success(try body())
        } catch let error as APIError {
            return .failure(error)
        } catch let error as RedisError where error.breaksConnection {
            table.redisHealth?.suspect()
            return .failure(APIError(.unavailable, "the ledger store is unreachable"))
        } catch {
            return .failure(APIError(.internal, "\(label): \(error)"))
        }
    }
}
