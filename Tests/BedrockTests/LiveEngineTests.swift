import GatewayCore
import JSONCodec
import RedisClient
import TradingCore
import XCTest

@testable import Bedrock

/// Shared set-up of the live engine tests: a real redis-server, engines with fast timings,
/// synthetic bars published as `kline.closed` events.
class LiveEngineTestCase: XCTestCase {
    var redis: RedisTestServer!
    var conn: RedisConnection!
    let market = "BTCUSDT", interval = "1h"

    override func setUpWithError() throws {
        redis = try RedisTestServer()
        conn = try redis.connect()
    }

    override func tearDown() {
        conn = nil
        redis = nil
    }

    func settings(_ prefix: String, consumer: String, claimIdle: Int = 30_000) -> EngineSettings {
        EngineSettings(
            prefix: prefix, consumer: consumer, claimIdleMillis: claimIdle, claimIntervalMillis: 100,
            discoverIntervalMillis: 50, blockMillis: 100)
    }

    func ledger(_ prefix: String) throws -> Bedrock.Ledger {
        try Bedrock.Ledger(settings: LedgerSettings(prefix: prefix, initialBalance: 100_000, commissionRate: 0.001))
    }

    func engine(
        _ prefix: String, consumer: String, claimIdle: Int = 30_000, batch: Int = 100,
        lease: Int = 10_000
    ) throws -> LiveEngine {
        var s = settings(prefix, consumer: consumer, claimIdle: claimIdle)
        s.batch = batch
        s.leaseMillis = lease
        return try LiveEngine(
            address: redis.address, ledger: ledger(prefix),
            settings: s)
    }

    func series(_ n: Int, seed: UInt64 = 11) -> BarSeries {
        SyntheticMarket.generate(.btcusdt, bars: n, seed: seed)
    }

    func publish(_ s: BarSeries, prefix: String, market: String? = nil) throws {
        let market = market ?? self.market
        let topic = "klines:\(market):\(interval)"
        _ = try conn.pipeline(
            s.bars.map { bar in
                [
                    "XADD", StreamKeys.key(prefix: prefix, topic: topic), "*", "event",
                    KlineEvent.encode(bar, market: market, interval: interval, now: 0),
                ]
            })
    }

    func waitUntil(_ what: String, seconds: Double = 30, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return }
            usleep(20_000)
        }
        XCTFail("timed out waiting for \(what)")
    }

    /// Every bar of the stream acknowledged by the group.
    func drained(_ prefix: String, total: Int, market: String? = nil) throws -> Bool {
        let key = StreamBar.streamKey(prefix: prefix, market: market ?? self.market, interval: interval)
        guard let groups = try conn.command(["XINFO", "GROUPS", key]).array, let g = groups.first?.array else { return false }
        var info: [String: RedisReply] = [:]
        var i = 0
        while i + 1 < g.count { if let k = g[i].string { info[k] = g[i + 1] }; i += 2 }
        return info["pending"]?.integer == 0 && info["last-delivered-id"]?.string != "0-0"
            && (info["entries-read"]?.integer ?? 0) >= Int64(total)
    }

    func signals(_ prefix: String) throws -> [JSONObject] {
        try ledger(prefix).signals(market: nil, offset: 0, limit: 100_000, on: conn).data.reversed()
    }

    /// (strategy, signal type, bar time) of every entry the strategies decide on `s`, fed bar by bar.
    func expectedEntries(_ s: BarSeries) throws -> [String] {
        var out: [String] = []
        for name in ["pullback", "oops"] {
            var strategy = try StrategyRegistry.make(name: name)
            for bar in s.bars {
                if case .enter(let e) = strategy.onBar(bar, now: bar.time) {
                    out.append("\(name) \(e.signalType.rawValue) \(RFC3339.format(milliseconds: bar.time))")
                }
            }
        }
        return out.sorted()
    }

    func key(_ signal: JSONObject) -> String {
        "\(signal["strategy"]?.stringValue ?? "") \(signal["signal_type"]?.stringValue ?? "") \(signal["bar_time"]?.stringValue ?? "")"
    }

}

/// The live engine's signals equal a backtest of the same bars with the same code.
final class LiveEngineTests: LiveEngineTestCase {
    func testSignalsEqualABacktestOfTheSameBars() throws {
        let s = series(400)
        try publish(s, prefix: "t:")
        let e = try engine("t:", consumer: "a")
        e.start()
        defer { e.stop() }
        try waitUntil("400 bars processed") { e.metrics.count("bars_processed") >= 400 }
        let live = try signals("t:")
        XCTAssertEqual(live.map(key).sorted(), try expectedEntries(s))
        XCTAssertEqual(Set(live.map(key)).count, live.count, "one signal per strategy, market, interval and bar")
        // The backtester (arbiter as live, no risk guard) decides the same entries on the same bars.
        var traded = 0
        for name in ["pullback", "oops"] {
            let result = try Backtester.run(
                series: s, strategyName: name,
                config: BacktestConfig(initialBalance: 100_000, risk: nil, arbiter: .default))
            XCTAssertEqual(live.filter { $0["strategy"]?.stringValue == name }.count, result.signalsGenerated, name)
            for (trade, type) in zip(result.trades, result.tradeSignalTypes) {
                guard let i = s.time.firstIndex(of: trade.entryTime), i > 0 else { XCTFail("entry bar"); continue }
                let expected = "\(name) \(type.rawValue) \(RFC3339.format(milliseconds: s.time[i - 1]))"
                let match = live.first { key($0) == expected }
                XCTAssertNotNil(match, "backtest entry \(expected) has no live signal")
                XCTAssertEqual(match?["final_decision"]?.stringValue, "APPROVED", expected)
                traded += 1
            }
        }
        XCTAssertGreaterThan(traded, 0, "the sample should trade")
        XCTAssertGreaterThan(e.metrics.count("positions_opened"), 0)
        XCTAssertEqual(e.metrics.count("signals_generated"), Int64(live.count))
        XCTAssertTrue(e.metrics.registry.render().contains("bedrock_engine_bars_processed_total 400"))
        // Every signal has exactly one signal.created event.
        XCTAssertEqual(try conn.command(["XLEN", "t:stream:signals"]).integer, Int64(live.count))
    }
}
