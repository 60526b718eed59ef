import JSONCodec
import Synchronization
import TradingCore
import XCTest

@testable import Bedrock

/// The bar path with the LLM layer: a signal takes its market's sentiment at once and the
/// arbiter weighs it, its explanation is queued once (not again for a redelivered bar), every
/// traded bar's close is observed; `explain_signal.lua` replaces the template with the model's
/// text and announces it, once.
final class BarPipelineLLMTests: RedisTestCase {
    /// Answers a fixed sentiment and records what the pipeline told it.
    final class RecordingHooks: LLMSignalHooks {
        let answer: LLMSentiment
        let seen = Mutex<(prices: [Double], explained: [Int64])>(([], []))
        init(answer: LLMSentiment) { self.answer = answer }
        func observe(market: String, price: Double) { seen.withLock { $0.prices.append(price) } }
        func sentiment(market: String, price: Double) -> LLMSentiment { answer }
        func explain(signalID: Int64, signal: SignalInput) { seen.withLock { $0.explained.append(signalID) } }
    }

    let t0: Int64 = 1_767_225_600_000
    var ledger: Bedrock.Ledger!

    override func setUpWithError() throws {
        try super.setUpWithError()
        ledger = try Bedrock.Ledger(settings: LedgerSettings(prefix: "p:", initialBalance: 100_000, commissionRate: 0.001))
    }

    func pipeline(_ hooks: RecordingHooks?, threshold: Double = 60) -> BarPipeline {
        var settings = EngineSettings(prefix: "p:", consumer: "t")
        settings.arbiter = ArbiterConfig(ruleWeight: 0.5, mlWeight: 0.3, llmWeight: 0.5, threshold: threshold)
        return BarPipeline(ledger: ledger, settings: settings, metrics: EngineMetrics(), llm: hooks)
    }

    func bar(_ close: Double) -> StreamBar {
        StreamBar(
            id: "1-0", market: "ETH/USDT", interval: "1h",
            bar: Bar(time: t0, open: close, high: close + 1, low: close - 1, close: close, volume: 1))
    }

    let entry = EntrySignal(
        signalType: .pullbackBuy, side: .buy, order: .market, entryPrice: 100, stopLoss: 95, profitTarget: 110,
        atr: 2, trailingATRMultiple: 1, score: 70)

    func signal(_ id: Int64) throws -> JSONObject {
        try XCTUnwrap(try ledger.record(.signal, id: id, on: conn))
    }

    func testSignalCarriesTheSentimentTheArbiterWeighsAndQueuesOneExplanation() throws {
        let hooks = RecordingHooks(answer: .negative)
        let p = pipeline(hooks)
        var origins: [Int64: BarPipeline.PositionOrigin] = [:]
        let key = "p:stream:klines:ETH/USDT:1h"
        try p.process(
            bar(100), key: key, decisions: [("pullback", .enter(entry))], previousTime: nil, origins: &origins, on: conn)
        let stored = try signal(1)
        XCTAssertEqual(stored["llm_sentiment"]?.stringValue, "NEGATIVE")
        // Rule 70 × 0.5 and NEGATIVE for a buy (0) × 0.5: 35, below 60.
        XCTAssertEqual(stored["final_decision"]?.stringValue, "REJECTED")
        XCTAssertTrue(stored["explanation"]?.stringValue?.contains("LLM NEGATIVE for a buy") ?? false)
        XCTAssertEqual(hooks.seen.withLock { $0.prices }, [100])
        XCTAssertEqual(hooks.seen.withLock { $0.explained }, [1])
        // A redelivered bar records nothing new and queues no second explanation.
        try p.process(
            bar(100), key: key, decisions: [("pullback", .enter(entry))], previousTime: nil, origins: &origins, on: conn)
        XCTAssertEqual(hooks.seen.withLock { $0.explained }, [1])
    }

    func testNoProviderLeavesTheSentimentNull() throws {
        let p = pipeline(nil)
        _ = try p.decide(bar(100), decisions: [("pullback", .enter(entry))], on: conn)
        XCTAssertEqual(try signal(1)["llm_sentiment"], .null)
        XCTAssertTrue(try signal(1)["explanation"]?.stringValue?.contains("not available: ML score, LLM sentiment") ?? false)
    }

    func testExplainSignalReplacesTheTemplateOnceAndAnnouncesIt() throws {
        _ = try pipeline(RecordingHooks(answer: .positive)).decide(bar(100), decisions: [("pullback", .enter(entry))], on: conn)
        let template = try XCTUnwrap(try signal(1)["explanation"]?.stringValue)
        let before = try conn.command(["XLEN", "p:stream:signals"]).integer
        let write = try ledger.run(
            "explain_signal", ["signal_id": .int(1), "explanation": "Buyers stepped in at 100."], on: conn)
        XCTAssertEqual(write.status, "explained")
        XCTAssertEqual(try signal(1)["explanation"]?.stringValue, "Buyers stepped in at 100.")
        XCTAssertEqual(try conn.command(["HGET", "p:signal:1", "explanation_template"]).string, template)
        let last = try XCTUnwrap(try conn.command(["XREVRANGE", "p:stream:signals", "+", "-", "COUNT", "1"]).array?.first)
        let event = try XCTUnwrap(JSONCodec.parse(try XCTUnwrap(last.array?[1].array?[1].string)).objectValue)
        XCTAssertEqual(event["event_type"]?.stringValue, "signal.explained")
        XCTAssertEqual(event["signal_id"]?.intValue, 1)
        XCTAssertEqual(event["explanation"]?.stringValue, "Buyers stepped in at 100.")
        // Once: a second answer (another gateway, a retry) changes nothing; an unknown id neither.
        XCTAssertEqual(
            try ledger.run("explain_signal", ["signal_id": .int(1), "explanation": "other"], on: conn).status, "existing")
        XCTAssertEqual(
            try ledger.run("explain_signal", ["signal_id": .int(99), "explanation": "x"], on: conn).status, "not_found")
        XCTAssertEqual(try signal(1)["explanation"]?.stringValue, "Buyers stepped in at 100.")
        XCTAssertEqual(try conn.command(["XLEN", "p:stream:signals"]).integer, before! + 1)
    }
}
