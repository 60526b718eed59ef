import JSONCodec
import TradingCore
import XCTest

@testable import Bedrock

/// Crash and redelivery, two engines in one group, and `signals.generate`, against a real redis-server.
final class LiveEngineRecoveryTests: LiveEngineTestCase {
    /// Everything the ledger holds, in a comparable form.
    func ledgerState(_ prefix: String) throws -> [String] {
        let l = try ledger(prefix)
        var out = try signals(prefix).map { "signal \(key($0)) \($0["final_decision"]?.stringValue ?? "")" }
        for p in try l.positions(market: nil, status: nil, offset: 0, limit: 10_000, on: conn).data.reversed() {
            out.append(
                [
                    "signal_id", "status", "position_size", "entry_price", "exit_price", "exit_reason", "realized_pnl",
                    "trailing_stop_price",
                ].map { "\(p[$0].map { "\($0)" } ?? "-")" }.joined(separator: " "))
        }
        out.append("account \(try l.account(on: conn)["balance"].map { "\($0)" } ?? "")")
        for topic in ["signals", "portfolio", "risk"] {
            out.append("\(topic) events \(try conn.command(["XLEN", "\(prefix)stream:\(topic)"]).integer ?? 0)")
        }
        return out
    }

    /// The ledger one engine makes of `s` under the prefix `ref:`, with nothing going wrong.
    private func referenceRun(_ s: BarSeries) throws {
        try publish(s, prefix: "ref:")
        let reference = try engine("ref:", consumer: "r")
        reference.start()
        try waitUntil("reference run") { try drained("ref:", total: s.count) }
        reference.stop()
    }

    func testRedeliveryAfterACrashDuplicatesNothing() throws {
        let s = series(300, seed: 5)
        try referenceRun(s)  // one engine, no crash
        let referenceState = try ledgerState("ref:")
        XCTAssertTrue(referenceState.contains { $0.contains("CLOSED") }, "the sample should open and close positions")
        print("reference run:", referenceState.joined(separator: "\n"))

        // The crash: consumer "dead" takes every bar, fully processes the first 200 (ledger writes
        // done) and dies before acknowledging any of them.
        try publish(s, prefix: "t:")
        let key = StreamBar.streamKey(prefix: "t:", market: market, interval: interval)
        _ = try conn.command(["XGROUP", "CREATE", key, "t:engine", "0", "MKSTREAM"]).checked()
        let reply = try conn.command(["XREADGROUP", "GROUP", "t:engine", "dead", "COUNT", "1000", "STREAMS", key, ">"]).checked()
        let entries = reply.array?.first?.array?[1].array ?? []
        XCTAssertEqual(entries.count, 300)
        let pipeline = BarPipeline(ledger: try ledger("t:"), settings: settings("t:", consumer: "dead"), metrics: EngineMetrics())
        var book = try StrategyBook(settings: pipeline.settings)
        var origins: [Int64: BarPipeline.PositionOrigin] = [:]
        for entry in entries.prefix(200) {
            guard let (id, decoded) = StreamBar.decode(entry: entry), let bar = decoded else { return XCTFail("entry") }
            let decisions = book.feed(bar.bar, id: id)
            try pipeline.process(
                bar, key: key, decisions: decisions, previousTime: book.previousBar?.time,
                origins: &origins, on: conn)
        }
        XCTAssertGreaterThan(try signals("t:").count, 0)

        // A restarted gateway claims the dead consumer's bars and reprocesses all 300.
        let survivor = try engine("t:", consumer: "b", claimIdle: 200)
        survivor.start()
        defer { survivor.stop() }
        try waitUntil("claimed and drained") { try drained("t:", total: 300) }
        XCTAssertGreaterThanOrEqual(survivor.metrics.count("bars_claimed"), 300)
        XCTAssertEqual(try ledgerState("t:"), try ledgerState("ref:"), "no duplicate signal, position, trade or event")
        XCTAssertEqual(try conn.command(["XPENDING", key, "t:engine"]).array?.first?.integer, 0)
    }

    func testTwoEnginesInOneGroupProcessEachBarOnce() throws {
        let s = series(300, seed: 3)
        try referenceRun(s)
        try publish(s, prefix: "t:")
        let a = try engine("t:", consumer: "a", batch: 7), b = try engine("t:", consumer: "b", batch: 7)
        a.start(); b.start()
        defer { a.stop(); b.stop() }
        try waitUntil("both drained") { try drained("t:", total: 300) }
        XCTAssertEqual(a.metrics.count("bars_processed") + b.metrics.count("bars_processed"), 300)
        print(
            "bars processed: a \(a.metrics.count("bars_processed")), b \(b.metrics.count("bars_processed")), rebuilds",
            a.metrics.count("history_rebuilds") + b.metrics.count("history_rebuilds"))
        let live = try signals("t:")
        XCTAssertEqual(live.map(key).sorted(), try expectedEntries(s), "each decision made once, on the right history")
        XCTAssertEqual(try conn.command(["XLEN", "t:stream:signals"]).integer, Int64(live.count))
        let positions = try ledger("t:").positions(market: nil, status: nil, offset: 0, limit: 10_000, on: conn).data
        let bySignal = positions.compactMap { $0["signal_id"]?.intValue }
        XCTAssertEqual(Set(bySignal).count, bySignal.count, "a signal opens at most one position")
        XCTAssertEqual(try ledgerState("t:"), try ledgerState("ref:"), "the same ledger as with one engine")
    }

    func testTwoEnginesShareTheStreamsByLease() throws {
        let markets = ["BTCUSDT", "ETHUSDT"]
        for (i, m) in markets.enumerated() { try publish(series(300, seed: UInt64(20 + i)), prefix: "t:", market: m) }
        let a = try engine("t:", consumer: "a", batch: 5, lease: 600), b = try engine("t:", consumer: "b", batch: 5, lease: 600)
        a.start(); b.start()
        defer { a.stop(); b.stop() }
        try waitUntil("both streams drained") { try markets.allSatisfy { try drained("t:", total: 300, market: $0) } }
        let (na, nb) = (a.metrics.count("bars_processed"), b.metrics.count("bars_processed"))
        print("bars processed by lease: a \(na), b \(nb)")
        XCTAssertEqual(na + nb, 600)
        XCTAssertGreaterThan(na, 0); XCTAssertGreaterThan(nb, 0)
        let owners = try markets.map { m in
            try conn.command(["GET", "t:engine:lease:" + StreamBar.streamKey(prefix: "t:", market: m, interval: interval)]).string
        }
        XCTAssertEqual(Set(owners.compactMap { $0 }), ["a", "b"], "one stream each once balanced")
        let live = try signals("t:")
        XCTAssertEqual(Set(live.map { "\($0["market"]?.stringValue ?? "") \(key($0))" }).count, live.count)
    }

    func testGenerateRecordsTheLatestBarOnce() throws {
        let s = series(400, seed: 11)
        let pipeline = BarPipeline(ledger: try ledger("g:"), settings: settings("g:", consumer: "x"), metrics: EngineMetrics())
        func generate(_ params: JSONObject) throws -> JSONValue {
            try EngineMethods.generate(LedgerParams(params: params), pipeline: pipeline, on: conn)
        }
        let params: JSONObject = ["market": .string(market), "interval": .string(interval), "force_analysis": .bool(true)]
        var answer = try generate(params)
        XCTAssertEqual(answer["signal"], JSONValue.null)
        XCTAssertTrue(answer["reason"]?.stringValue?.contains("no bars") ?? false)
        // Bars up to the last one on which a strategy enters.
        let entries = try expectedEntries(s)
        let lastTime = try XCTUnwrap(entries.compactMap { $0.split(separator: " ").last.map(String.init) }.max())
        let n = try XCTUnwrap(s.time.firstIndex { RFC3339.format(milliseconds: $0) == lastTime }) + 1
        try publish(s.prefix(n), prefix: "g:")
        answer = try generate(params)
        let signal = try XCTUnwrap(answer["signal"]?.objectValue)
        XCTAssertEqual(signal["bar_time"]?.stringValue, lastTime)
        XCTAssertEqual(answer["created"], JSONValue.bool(true))
        XCTAssertEqual(answer["analysis"]?.arrayValue?.count, 2)
        let again = try generate(params)
        XCTAssertEqual(again["signal"]?["id"]?.intValue, signal["id"]?.intValue)
        XCTAssertEqual(again["created"], JSONValue.bool(false))
        let created = answer["signals"]?.arrayValue?.count ?? 0
        XCTAssertEqual(try conn.command(["XLEN", "g:stream:signals"]).integer, Int64(created))
        XCTAssertThrowsError(try generate(["market": .string(market)]))
    }
}
