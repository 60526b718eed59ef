import Foundation
import GatewayCore
import JSONCodec
import RedisClient
import TradingCore
import XCTest

@testable import Bedrock

/// The registry's Redis side against a real redis-server: deploys through `model_deploy.lua`
/// (shares, statuses, `model.deployed`, the optimistic check), live performance written by
/// `close_position.lua`, and the live scorer's failure path (null score, counter, one alert).
final class ModelRegistryRedisTests: RedisTestCase {
    var ledger: Bedrock.Ledger!
    var registry: ModelRegistry!

    override func setUpWithError() throws {
        try super.setUpWithError()
        ledger = try Bedrock.Ledger(settings: LedgerSettings(prefix: "r:", initialBalance: 100_000, commissionRate: 0))
        registry = ModelRegistry(ledger: ledger)
    }

    /// A stored version with an unparsable model (the layout `model_add.lua` writes).
    func seed(_ name: String, _ version: Int64) throws {
        let meta = #"{"name":"\#(name)","version":\#(version),"created_at":"2026-01-01T00:00:00Z","source":"imported"}"#
        _ = try conn.command([
            "HSET", "r:model:\(name):\(version)", "meta", meta, "model", "{broken", "status", "candidate",
            "traffic_percentage", "0",
        ]).checked()
        _ = try conn.command(["SET", "r:model:\(name):seq", String(version)]).checked()
        _ = try conn.command(["SADD", "r:models", name]).checked()
    }

    /// A stored version holding a valid one-stump model.
    func seedValid(_ name: String, _ version: Int64) throws {
        try seed(name, version)
        _ = try conn.command(["HSET", "r:model:\(name):\(version)", "model", ParsedModelsTests.stumpModelText()]).checked()
    }

    func events(_ topic: String) throws -> [JSONObject] {
        (try conn.command(["XRANGE", "r:stream:\(topic)", "-", "+"]).checked().array ?? []).compactMap { entry in
            guard let text = entry.array?[1].array?[1].string else { return nil }
            return (try? JSONCodec.parse(text))?.objectValue
        }
    }

    func testDeploysKeepSharesStatusesAndEvents() throws {
        for v: Int64 in 1...3 { try seed("m", v) }
        let first = try registry.deploy(name: "m", version: 1, percentage: 20, on: conn)
        XCTAssertEqual(first.change.granted, 100)
        XCTAssertEqual(first.version["status"], "deployed")
        XCTAssertEqual(first.version["traffic_percentage"], 100)
        _ = try registry.deploy(name: "m", version: 2, percentage: 25, on: conn)
        XCTAssertEqual(try registry.traffic(on: conn).shares, ["m@1": 75, "m@2": 25])
        // Another gateway changed the traffic since it was read: the script refuses, nothing written.
        let stale = ModelTraffic(shares: ["m@1": 100])
        let write = try ledger.run(
            "model_deploy",
            [
                "name": "m", "version": 3, "reference": "m@3", "granted": 50, "expected": ModelRegistry.json(stale),
                "entries": [], "retired": [], "traffic_json": "{}", "retired_json": "[]",
            ], on: conn)
        XCTAssertEqual(write.status, "conflict")
        XCTAssertEqual(try registry.traffic(on: conn).shares, ["m@1": 75, "m@2": 25])
        _ = try registry.deploy(name: "m", version: 3, percentage: 100, on: conn)
        XCTAssertEqual(try registry.traffic(on: conn).shares, ["m@3": 100])
        XCTAssertEqual(try registry.version("m", 1, on: conn)?["status"], "retired")
        XCTAssertEqual(try registry.version("m", 2, on: conn)?["traffic_percentage"], 0)
        XCTAssertThrowsError(try registry.deploy(name: "m", version: 9, percentage: 10, on: conn)) { error in
            XCTAssertEqual((error as? APIError)?.code, .notFound)
        }
        let deployed = try events("models").filter { $0["event_type"] == "model.deployed" }
        XCTAssertEqual(deployed.map { $0["model"]?.stringValue }, ["m@1", "m@2", "m@3"])
        XCTAssertEqual(deployed.last?["retired"], ["m@1", "m@2"])
        let listed = try registry.list(on: conn)
        XCTAssertEqual(listed["models"]?.arrayValue?.count, 3)
        XCTAssertEqual(listed["traffic"], ["m@3": 100])
    }

    func testZeroForANeverDeployedVersionLeavesItACandidate() throws {
        for v: Int64 in 1...3 { try seed("m", v) }
        _ = try registry.deploy(name: "m", version: 1, percentage: 100, on: conn)
        let done = try registry.deploy(name: "m", version: 2, percentage: 0, on: conn)
        XCTAssertEqual(done.version["status"], "candidate")
        XCTAssertEqual(done.change.retired, [])
        XCTAssertEqual(try registry.traffic(on: conn).shares, ["m@1": 100])
        XCTAssertEqual(try events("models").filter { $0["event_type"] == "model.deployed" }.count, 1, "no write, no event")
        // The script itself retires only versions that were in the traffic it checked.
        let write = try ledger.run(
            "model_deploy",
            [
                "name": "m", "version": 1, "reference": "m@1", "granted": 0, "expected": ["m@1": 100], "entries": [],
                "retired": [["ref": "m@1", "name": "m", "version": "1"], ["ref": "m@3", "name": "m", "version": "3"]],
                "traffic_json": "{}", "retired_json": "[\"m@1\"]",
            ], on: conn)
        XCTAssertEqual(write.status, "deployed")
        XCTAssertEqual(try registry.version("m", 1, on: conn)?["status"], "retired")
        XCTAssertEqual(try registry.version("m", 3, on: conn)?["status"], "candidate")
        XCTAssertThrowsError(try registry.deploy(name: "m", version: 7, percentage: 0, on: conn)) { error in
            XCTAssertEqual((error as? APIError)?.code, .notFound)
        }
    }

    func testListPagesNewestFirstWithTheTotal() throws {
        for v: Int64 in 1...5 { try seed("m", v) }
        let page = try registry.list(limit: 2, offset: 1, on: conn)
        XCTAssertEqual(page["models"]?.arrayValue?.map { $0["version"] }, [4, 3])
        XCTAssertEqual(page["total"], 5)
        XCTAssertEqual(page["limit"], 2)
        XCTAssertEqual(page["offset"], 1)
        XCTAssertEqual(page["traffic"], [:])
        XCTAssertNotNil(page["arbiter"]?.objectValue)
        XCTAssertEqual(try registry.list(limit: 10, offset: 5, on: conn)["models"], [])
        XCTAssertEqual(try registry.list(on: conn)["models"]?.arrayValue?.count, 5)
        func refusal(_ params: JSONObject) -> String? {
            do {
                _ = try ModelMethods.listPage(LedgerParams(params: params))
                return nil
            } catch {
                guard let e = error as? APIError, e.code == .badRequest else { return "\(error)" }
                return e.message
            }
        }
        XCTAssertEqual(try ModelMethods.listPage(LedgerParams(params: [:])).limit, 100)
        XCTAssertEqual(try ModelMethods.listPage(LedgerParams(params: ["limit": "1000", "offset": "7"])).offset, 7)
        for (params, field) in [
            (["limit": 0], "limit"), (["limit": 1001], "limit"), (["limit": "x"], "limit"), (["offset": -1], "offset"),
            (["offset": 1.5], "offset"),
        ] as [(JSONObject, String)] {
            let text = refusal(params)
            XCTAssertTrue(text?.hasPrefix("\(field) must be") == true, "\(params): \(text ?? "accepted")")
        }
    }

    func testParsedModelsAreEvictedLeastRecentlyUsedFirst() throws {
        for v: Int64 in 1...33 { try seedValid("m", v) }
        for v in 1...32 { _ = try registry.load(reference: "m@\(v)", on: conn) }
        _ = try registry.load(reference: "m@1", on: conn)  // m@2 is now the least recently used
        _ = try registry.load(reference: "m@33", on: conn)
        // Break every stored text: a cached version still loads, an evicted one is parsed again and fails.
        for v in 1...33 { _ = try conn.command(["HSET", "r:model:m:\(v)", "model", "{broken"]).checked() }
        XCTAssertNoThrow(try registry.load(reference: "m@1", on: conn))
        XCTAssertNoThrow(try registry.load(reference: "m@33", on: conn))
        XCTAssertThrowsError(try registry.load(reference: "m@2", on: conn)) { XCTAssertTrue($0 is ModelFormatError) }
    }

    func testANewlyDeployedVersionScoresOnlyOnceParsedAndTheOldTrafficScoresMeanwhile() throws {
        try seedValid("m", 1)
        try seedValid("m", 2)
        _ = try registry.deploy(name: "m", version: 1, percentage: 100, on: conn)
        let parsing = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let registry = self.registry!
        let clock = ManualClock()
        let models = LiveModels(
            registry: registry, metrics: MetricsRegistry(), clock: clock, refreshSeconds: 1, retrySeconds: 30,
            load: { ref, c in
                if ref == "m@2" {
                    parsing.signal()
                    release.wait()
                }
                return try registry.load(reference: ref, on: c)
            })
        func score() -> LiveModels.Scored {
            models.score(
                strategy: "s", market: "BTCUSDT", interval: "1h", barTime: "t", features: Array(repeating: 60, count: 15))
        }
        try models.refresh(on: conn)
        XCTAssertEqual(score().model, "m@1")
        _ = try registry.deploy(name: "m", version: 2, percentage: 100, on: conn)
        clock.advance(2)
        let other = try redis.connect()
        let refreshed = expectation(description: "refresh")
        nonisolated(unsafe) var thrown: Error?
        Thread.detachNewThread {
            do { try models.refresh(on: other) } catch { thrown = error }
            refreshed.fulfill()
        }
        XCTAssertEqual(parsing.wait(timeout: .now() + 10), .success)
        // m@2 is being parsed: the previous traffic still scores, no failure.
        let meanwhile = score()
        release.signal()
        wait(for: [refreshed], timeout: 10)
        XCTAssertNil(thrown)
        XCTAssertEqual(meanwhile.model, "m@1")
        XCTAssertNil(meanwhile.failure?.message)
        XCTAssertNotNil(meanwhile.score)
        let after = score()
        XCTAssertEqual(after.model, "m@2")
        XCTAssertNotNil(after.score)
    }

    func testClosedPositionsRecordTheScoringVersionsOutcomes() throws {
        try seed("m", 1)
        func trade(_ i: Int, score: Double?, model: String?, exit: Double) throws {
            let signal = SignalInput(
                strategy: "pullback", market: "BTCUSDT", interval: "1h", barTime: "2026-01-01T0\(i):00:00Z",
                signalType: "PULLBACK_BUY", side: "BUY", entryPrice: 100, ruleEngineScore: 80,
                mlConfidenceScore: score, finalDecision: "APPROVED", explanation: "t", mlModel: model,
                features: [1, .nan] + Array(repeating: 0.5, count: 13))
            let id = try XCTUnwrap(try ledger.recordSignal(signal, on: conn).id)
            let open = try ledger.openPosition(
                OpenInput(signalID: id, market: "BTCUSDT", side: "BUY", size: 1, entryPrice: 100), on: conn)
            _ = try ledger.closePosition(id: try XCTUnwrap(open.id), price: exit, reason: "MANUAL", on: conn)
        }
        try trade(1, score: 70, model: "m@1", exit: 110)
        try trade(2, score: 40, model: "m@1", exit: 90)
        try trade(3, score: nil, model: nil, exit: 120)
        let perf = try registry.performance(name: "m", version: 1, on: conn)
        XCTAssertEqual(perf["count"], 2)
        XCTAssertEqual(perf["wins"], 1)
        XCTAssertEqual(perf["win_rate"]?.doubleValue, 50)
        XCTAssertEqual(perf["auc"], .null, "AUC only once 20 outcomes exist")
        XCTAssertEqual(
            try conn.command(["LRANGE", "r:model:m:1:outcomes", "0", "-1"]).checked().array?.compactMap(\.string),
            ["40|0", "70|1"])
        let stored = try XCTUnwrap(try ledger.record(.signal, id: 1, on: conn))
        XCTAssertEqual(stored["ml_model"], "m@1")
        XCTAssertEqual(stored["features"]?.arrayValue?.count, 15)
        XCTAssertEqual(stored["features"]?.arrayValue?[1], .null, "NaN is stored as null")
        XCTAssertNil(try events("signals").first?["features"], "the event stays small")
    }

    func testAUCOnceTwentyOutcomesExist() throws {
        try seed("m", 1)
        // Scores 5, 10, … 100; wins are the top 12 but one (score 45 wins, score 100 loses).
        for i in 1...20 {
            let win = i > 8 && i < 20 ? 1 : 0
            _ = try conn.command(["LPUSH", "r:model:m:1:outcomes", "\(i * 5)|\(win)"]).checked()
        }
        _ = try conn.command(["HSET", "r:model:m:1:perf", "count", "20", "wins", "11"]).checked()
        let perf = try registry.performance(name: "m", version: 1, on: conn)
        XCTAssertEqual(perf["count"], 20)
        XCTAssertEqual(try XCTUnwrap(perf["win_rate"]?.doubleValue), 55, accuracy: 1e-9)
        // 11 wins (scores 45…95), 9 losses (5…40, 100): 11 × 9 pairs, 11 of them misordered (100 above every win).
        XCTAssertEqual(try XCTUnwrap(perf["auc"]?.doubleValue), 1 - 11.0 / 99, accuracy: 1e-12)
    }

    func testAFailingVersionGivesNullScoresOneAlertAndACounter() throws {
        try seed("bad", 1)
        _ = try registry.deploy(name: "bad", version: 1, percentage: 100, on: conn)
        let metrics = MetricsRegistry()
        let clock = ManualClock()
        let models = LiveModels(registry: registry, metrics: metrics, clock: clock)
        let settings = EngineSettings(prefix: "r:", consumer: "t")
        let pipeline = BarPipeline(ledger: ledger, settings: settings, metrics: EngineMetrics(), models: models)
        let entry = EntrySignal(
            signalType: .pullbackBuy, side: .buy, order: .market, entryPrice: 100, stopLoss: 95, profitTarget: 110,
            atr: 2, trailingATRMultiple: 1, score: 90)
        let t0: Int64 = 1_767_225_600_000
        for i: Int64 in 0..<3 {
            let bar = StreamBar(
                id: "\(i + 1)-0", market: "BTCUSDT", interval: "1h",
                bar: Bar(time: t0 + i * 3_600_000, open: 100, high: 101, low: 99, close: 100, volume: 1))
            let out = try pipeline.decide(
                bar, decisions: [("pullback", .enter(entry))], features: [Array(repeating: 1, count: 15)], enterApproved: false,
                on: conn)
            let signal = try XCTUnwrap(try ledger.record(.signal, id: out[0].signalID, on: conn))
            XCTAssertEqual(signal["ml_confidence_score"], .null)
            XCTAssertEqual(signal["ml_model"], .null)
            XCTAssertTrue(signal["explanation"]?.stringValue?.contains("no ML score") == true)
        }
        let alerts = try events("risk").filter { $0["action"] == "ML_MODEL_FAILED" }
        XCTAssertEqual(alerts.count, 1, "one alert per version per outage")
        XCTAssertEqual(alerts.first?["model"], "bad@1")
        XCTAssertTrue(metrics.render().contains("bedrock_ml_score_failures_total 3"), metrics.render())
        // Nothing deployed: no score, no failure.
        _ = try registry.deploy(name: "bad", version: 1, percentage: 0, on: conn)
        clock.advance(2)
        try models.refresh(on: conn)
        let none = models.score(strategy: "s", market: "BTCUSDT", interval: "1h", barTime: "t", features: [])
        XCTAssertEqual(none, LiveModels.Scored())
    }
}
