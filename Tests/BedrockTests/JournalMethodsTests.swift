import Foundation
import JSONCodec
import JWTAuth
import LLMCore
import RedisClient
import Synchronization
import XCTest

@testable import Bedrock

/// A writer standing in for the model: records what it was given and answers fixed Markdown (or
/// fails like a model that timed out).
final class RecordingWriter: LLMWriter {
    let asked = Mutex<[(task: LLMTask, values: [String: String])]>([])
    let markdown: String
    let failure: APIError?

    init(markdown: String = "# Entry\nWritten by the stand-in.", failure: APIError? = nil) {
        self.markdown = markdown
        self.failure = failure
    }

    func write(_ task: LLMTask, values: [String: String]) throws(APIError) -> String {
        asked.withLock { $0.append((task, values)) }
        if let failure { throw failure }
        return markdown
    }

    var calls: [(task: LLMTask, values: [String: String])] { asked.withLock { $0 } }
}

/// `journal.generate`, `review.generate` and their downloads through the shared method table,
/// on trades written by the ledger's own scripts in a real redis-server.
final class JournalMethodsTests: RedisTestCase {
    private var ledger: Ledger!
    private var pool: RedisPool!
    private let prefix = "j:"

    override func setUpWithError() throws {
        try super.setUpWithError()
        ledger = try Ledger(settings: LedgerSettings(prefix: prefix, initialBalance: 1000, commissionRate: 0.001))
        pool = RedisPool(address: redis.address)
    }

    private func table(writer: (any LLMWriter)?) -> MethodTable {
        let table = MethodTable()
        JournalMethods.register(in: table, ledger: ledger, pool: pool, writer: writer, answerWithin: 30)
        return table
    }

    private static func millis(_ rfc3339: String) -> Int64 {
        let date = ISO8601DateFormatter().date(from: rfc3339)!
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// A BUY of `size` at `entry` from a signal, opened an hour before `closedAt` and closed
    /// then at `exit`; the trade's id.
    @discardableResult
    private func closedTrade(
        entry: Double = 100, exit: Double, size: Double = 1, closedAt: String, market: String = "BTCUSDT"
    ) throws -> Int64 {
        let closed = Self.millis(closedAt)
        let opened = closed - 3_600_000
        let signal = SignalInput(
            strategy: "pullback", market: market, interval: "1h", barTime: closedAt, signalType: "PULLBACK_BUY",
            side: "BUY", entryPrice: entry, stopLossPrice: entry * 0.9, ruleEngineScore: 80, finalDecision: "APPROVED",
            explanation: "Pullback to the 20-bar average in an uptrend.")
        let sid = try XCTUnwrap(ledger.recordSignal(signal, on: conn, nowMillis: opened).id)
        let open = try ledger.openPosition(
            OpenInput(signalID: sid, market: market, side: "BUY", size: size, entryPrice: entry, stopLossPrice: entry * 0.9),
            on: conn, nowMillis: opened)
        XCTAssertEqual(open.status, "opened", "\(open.reply)")
        let close = try ledger.closePosition(
            id: try XCTUnwrap(open.id), price: exit, reason: "TARGET", on: conn, nowMillis: closed)
        XCTAssertEqual(close.status, "closed")
        return try XCTUnwrap(close.reply["trade_id"]?.intValue)
    }

    private func stored(_ key: String) throws -> [String: String] {
        try conn.command(["HGETALL", prefix + key]).checked().hash
    }

    private func download(
        _ table: MethodTable, _ path: String, query: JSONObject = [:], role: Role = .viewer
    ) -> Result<Download, APIError> {
        guard let route = table.downloads.first(where: { $0.match(path) != nil }), let path = route.match(path) else {
            return .failure(APIError(.notFound, "no download route \(path)"))
        }
        var params = query
        for (name, value) in path { params[name] = .string(value) }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var answer: Result<Download, APIError> = .failure(APIError(.internal, "no answer"))
        table.dispatch(download: route, MethodCall(subject: "tester", role: role, params: params)) {
            answer = $0
            done.signal()
        }
        _ = done.wait(timeout: .now() + 10)
        return answer
    }

    private func error(_ result: Result<JSONValue, APIError>) -> APIError? {
        if case .failure(let error) = result { return error }
        return nil
    }

    func testJournalGivesTheModelTheLedgersFactsAndKeepsItsMarkdownForDownload() throws {
        try closedTrade(exit: 90, closedAt: "2026-03-01T09:00:00Z")
        let id = try closedTrade(entry: 100.1, exit: 110.2, size: 0.3, closedAt: "2026-03-02T11:30:00Z")
        let writer = RecordingWriter()
        let table = table(writer: writer)

        let answer = try table.answerWaiting(.journalGenerate, ["trade_id": .int(id)], role: .trader).get()
        XCTAssertEqual(answer["trade_id"]?.intValue, id)
        XCTAssertEqual(answer["markdown"]?.stringValue, writer.markdown)
        XCTAssertEqual(answer["download"]?.stringValue, "/v1/journal/\(id)/markdown")

        let ledgerTrade = try stored("trade:\(id)")
        let asked = try XCTUnwrap(writer.calls.first)
        XCTAssertEqual(writer.calls.count, 1)
        XCTAssertEqual(asked.task, .journal)
        XCTAssertEqual(Set(asked.values.keys), LLMTask.journal.placeholders)
        XCTAssertEqual(asked.values["pnl"], ledgerTrade["pnl"])
        XCTAssertEqual(asked.values["entry_price"], "100.1")
        XCTAssertEqual(asked.values["exit_price"], "110.2")
        XCTAssertEqual(asked.values["quantity"], "0.3")
        XCTAssertEqual(asked.values["commission"], ledgerTrade["commission"])
        XCTAssertEqual(asked.values["exit_time"], "2026-03-02T11:30:00.000Z")
        XCTAssertEqual(asked.values["strategy"], "pullback")
        XCTAssertEqual(asked.values["signal_explanation"], "Pullback to the 20-bar average in an uptrend.")
        let pnl = try XCTUnwrap(ledgerTrade["pnl"].flatMap(Double.init))
        XCTAssertEqual(asked.values["return_pct"], FactText.fixed2(pnl / (100.1 * 0.3) * 100))

        let kept = try stored("llm:journal:\(id)")
        XCTAssertEqual(kept["markdown"], writer.markdown)
        XCTAssertTrue(kept["generated_at"]?.hasSuffix("Z") ?? false, "\(kept)")

        let file = try download(table, "/v1/journal/\(id)/markdown").get()
        XCTAssertEqual(file.contentType, "text/markdown; charset=utf-8")
        XCTAssertEqual(file.filename, "journal-trade-\(id).md")
        XCTAssertEqual(String(decoding: file.body, as: UTF8.self), writer.markdown)

        // The socket may send the id as text, as REST does.
        XCTAssertNoThrow(try table.answerWaiting(.journalGenerate, ["trade_id": .string(String(id))], role: .trader).get())
    }

    func testUnknownTradesAreNotFoundBadIdsBadRequestsAndTheModelIsNotAsked() throws {
        try closedTrade(exit: 110, closedAt: "2026-03-01T09:00:00Z")
        let writer = RecordingWriter()
        let table = table(writer: writer)
        let unknown = error(table.answerWaiting(.journalGenerate, ["trade_id": 999], role: .trader))
        XCTAssertEqual(unknown?.code, .notFound)
        XCTAssertEqual(unknown?.message, "no trade with id 999")
        for bad: JSONObject in [[:], ["trade_id": "abc"], ["trade_id": 0], ["trade_id": -1], ["trade_id": 1.5], ["trade_id": ""]]
        {
            let refused = error(table.answerWaiting(.journalGenerate, bad, role: .trader))
            XCTAssertEqual(refused?.code, .badRequest, "\(bad)")
            XCTAssertTrue(refused?.message.hasPrefix("trade_id") ?? false, "\(bad): \(refused?.message ?? "")")
        }
        XCTAssertEqual(error(table.answerWaiting(.journalGenerate, ["trade_id": 1], role: .viewer))?.code, .forbidden)
        XCTAssertEqual(error(table.answerWaiting(.reviewGenerate, [:], role: .viewer))?.code, .forbidden)
        XCTAssertTrue(writer.calls.isEmpty)
        XCTAssertEqual(try conn.command(["KEYS", prefix + "llm:*"]).checked().array?.count, 0)
    }

    func testWithoutAProviderBothMethodsAreUnavailableAndNothingIsStored() throws {
        let id = try closedTrade(exit: 110, closedAt: "2026-03-01T09:00:00Z")
        let table = table(writer: nil)
        for (method, params) in [
            (Method.journalGenerate, ["trade_id": JSONValue.int(id)] as JSONObject),
            (.reviewGenerate, ["start_date": "2026-03-01", "end_date": "2026-03-31"]),
        ] {
            let refused = error(table.answerWaiting(method, params, role: .trader))
            XCTAssertEqual(refused, JournalMethods.unavailable, method.rawValue)
            XCTAssertEqual(refused?.message, "no LLM provider configured (llm.provider is none)")
        }
        XCTAssertEqual(try conn.command(["KEYS", prefix + "llm:*"]).checked().array?.count, 0)
        guard case .failure(let missing) = download(table, "/v1/journal/\(id)/markdown") else {
            return XCTFail("nothing was generated")
        }
        XCTAssertEqual(missing.code, .notFound)
    }

    func testAModelThatFailsIsUnavailableStoresNothingAndDoesNotMakeRedisSuspect() throws {
        let id = try closedTrade(exit: 110, closedAt: "2026-03-01T09:00:00Z")
        let table = table(writer: RecordingWriter(failure: APIError(.unavailable, "the model did not answer in 30 s")))
        let health = RedisHealth(address: redis.address, timeout: 1)  // not started: only `suspect` matters
        table.redisHealth = health
        let refused = error(table.answerWaiting(.journalGenerate, ["trade_id": .int(id)], role: .trader))
        XCTAssertEqual(refused?.code, .unavailable)
        XCTAssertEqual(refused?.message, "the model did not answer in 30 s")
        XCTAssertTrue(table.redisAnswering, "a model outage is not a Redis outage")
        XCTAssertTrue(try stored("llm:journal:\(id)").isEmpty)
    }

    func testReviewTakesTheTradesThatClosedWithinThePeriodInclusive() throws {
        // Trade ids follow exit time, as in the live ledger: close them in time order.
        let times = [
            "2026-02-28T23:59:59Z", "2026-03-01T00:00:00Z", "2026-03-15T12:00:00Z", "2026-03-31T23:59:59Z",
            "2026-04-01T00:00:00Z",
        ]
        let exits = [120.0, 110, 95, 104, 130]
        var ids: [Int64] = []
        for (time, exit) in zip(times, exits) { ids.append(try closedTrade(exit: exit, closedAt: time)) }
        let writer = RecordingWriter(markdown: "# March\nThree trades.")
        let table = table(writer: writer)

        let answer = try table.answerWaiting(
            .reviewGenerate, ["start_date": "2026-03-01", "end_date": "2026-03-31"], role: .trader
        ).get()
        XCTAssertEqual(answer["trade_count"]?.intValue, 3)
        XCTAssertEqual(answer["truncated"]?.boolValue, false)
        XCTAssertEqual(answer["markdown"]?.stringValue, writer.markdown)
        XCTAssertEqual(answer["download"]?.stringValue, "/v1/review/markdown?start_date=2026-03-01&end_date=2026-03-31")

        let values = try XCTUnwrap(writer.calls.first?.values)
        XCTAssertEqual(Set(values.keys), LLMTask.review.placeholders)
        let inPeriod = try ids[1...3].map { try stored("trade:\($0)") }
        let total = inPeriod.compactMap { $0["pnl"].flatMap(Money.units) }.reduce(0, +)
        XCTAssertEqual(values["total_pnl"], Money.text(units: total))
        XCTAssertEqual(values["trade_count"], "3")
        XCTAssertEqual(values["win_rate"], FactText.fixed2(200.0 / 3), "two of three won (110 and 104 over 100)")
        let lines = try XCTUnwrap(values["trades"]).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.map { $0.split(separator: " ").first.map(String.init) }, ids[1...3].map { "#\($0)" })
        XCTAssertTrue(lines[0].contains("pnl \(inPeriod[0]["pnl"]!) (TARGET)"), lines[0])

        XCTAssertEqual(try stored("llm:review:2026-03-01:2026-03-31")["markdown"], writer.markdown)
        let file = try download(table, "/v1/review/markdown", query: ["start_date": "2026-03-01", "end_date": "2026-03-31"])
            .get()
        XCTAssertEqual(file.filename, "review-2026-03-01-2026-03-31.md")
        XCTAssertEqual(String(decoding: file.body, as: UTF8.self), writer.markdown)
        guard
            case .failure(let other) = download(
                table, "/v1/review/markdown", query: ["start_date": "2026-03-01", "end_date": "2026-03-30"])
        else { return XCTFail("another period was never generated") }
        XCTAssertEqual(other.code, .notFound)
    }

    func testBadReviewDatesAreBadRequestsNamingTheField() throws {
        let writer = RecordingWriter()
        let table = table(writer: writer)
        let cases: [(JSONObject, String)] = [
            (["end_date": "2026-03-31"], "start_date"), (["start_date": "2026-03-01"], "end_date"),
            (["start_date": "03/01/2026", "end_date": "2026-03-31"], "start_date"),
            (["start_date": "2026-03-01", "end_date": 20_260_331], "end_date"),
            (["start_date": "2026-03-31", "end_date": "2026-03-01"], "end_date"),
            (["start_date": "2025-01-01", "end_date": "2026-12-31"], "start_date to end_date"),
        ]
        for (params, field) in cases {
            let refused = error(table.answerWaiting(.reviewGenerate, params, role: .trader))
            XCTAssertEqual(refused?.code, .badRequest, "\(params)")
            XCTAssertTrue(refused?.message.hasPrefix(field) ?? false, "\(params): \(refused?.message ?? "")")
        }
        guard case .failure(let bad) = download(table, "/v1/review/markdown", query: ["start_date": "2026-03-01"]) else {
            return XCTFail("a download needs both dates")
        }
        XCTAssertEqual(bad.code, .badRequest)
        XCTAssertTrue(writer.calls.isEmpty)
    }

    func testTheScanReadsAtMostItsBoundNewestFirstAndSaysWhenItCutThePeriod() throws {
        for day in 1...5 { try closedTrade(exit: 101, closedAt: "2026-03-0\(day)T10:00:00Z") }
        let march = try ReviewPeriod(startDate: "2026-03-01", endDate: "2026-03-31")
        let cut = try ReviewTradeScan.trades(in: march, prefix: prefix, on: conn, maxRead: 3)
        XCTAssertEqual(cut.trades.map { $0["id"] }, ["3", "4", "5"], "the newest, oldest first")
        XCTAssertTrue(cut.truncated)
        let whole = try ReviewTradeScan.trades(in: march, prefix: prefix, on: conn, maxRead: 5)
        XCTAssertEqual(whole.trades.count, 5)
        XCTAssertFalse(whole.truncated)
        // The period starts after trades 1-2: reading stops at trade 2, and a bound reached just
        // before it cut nothing.
        let days = try ReviewPeriod(startDate: "2026-03-03", endDate: "2026-03-04")
        for bound in [3, 4] {
            let late = try ReviewTradeScan.trades(in: days, prefix: prefix, on: conn, maxRead: bound)
            XCTAssertEqual(late.trades.map { $0["id"] }, ["3", "4"], "bound \(bound)")
            XCTAssertFalse(late.truncated, "bound \(bound)")
        }
    }

    func testAtMostTheGatesCallsWaitOnTheModelAndMoreAreToldAtOnce() throws {
        let id = try closedTrade(exit: 110, closedAt: "2026-03-01T09:00:00Z")
        let writer = BlockingWriter()
        let table = MethodTable(workers: WorkerPool(threads: 4, name: "test-gate"))
        JournalMethods.register(in: table, ledger: ledger, pool: pool, writer: writer, answerWithin: 30, concurrentCalls: 2)
        let answered = DispatchGroup()
        for _ in 0..<2 {
            answered.enter()
            table.dispatch(.journalGenerate, MethodCall(subject: "t", role: .trader, params: ["trade_id": .int(id)])) {
                XCTAssertNotNil(try? $0.get())
                answered.leave()
            }
        }
        for _ in 0..<2 { XCTAssertEqual(writer.entered.wait(timeout: .now() + 10), .success) }
        let busy = error(
            table.answerWaiting(.reviewGenerate, ["start_date": "2026-03-01", "end_date": "2026-03-01"], role: .trader))
        XCTAssertEqual(busy?.code, .unavailable)
        XCTAssertEqual(busy?.message, "2 journal or review calls are being written already; try again shortly")
        writer.release.signal()
        writer.release.signal()
        XCTAssertEqual(answered.wait(timeout: .now() + 10), .success)
        writer.release.signal()
        XCTAssertNoThrow(try table.answerWaiting(.journalGenerate, ["trade_id": .int(id)], role: .trader).get())
    }
}

/// A writer that holds each call until `release` is signalled (a model still writing).
final class BlockingWriter: LLMWriter {
    let entered = DispatchSemaphore(value: 0)
    let release = DispatchSemaphore(value: 0)

    func write(_ task: LLMTask, values: [String: String]) throws(APIError) -> String {
        entered.signal()
        release.wait()
        return "# Done"
    }
}
