import Bedrock
// Bedrock figures (docs/BENCHMARKS.md, "Engine and tokens"): the live engine's throughput in
// bars/s through a real redis-server, and HS256 token verifications/s. Run with
// `swift package benchmark --target BedrockBenchmarks` in Benchmarks/ (needs redis-server on PATH).
import Benchmark
import Foundation
import GatewayCore
import JWTAuth
import RedisClient
import TradingCore

extension BenchmarkMetric {
    static let barsPerSecond = BenchmarkMetric.custom("bars/s", polarity: .prefersLarger, useScalingFactor: false)
}

/// Bars the engine works through in each run.
let engineBars = 1_000
let market = "BTC/USDT", interval = "1h"
/// An embedded redis-server (unix socket, AOF on, as `bedrock serve` runs it by default) in a
/// temp directory, started by the engine benchmark's setup and stopped by its teardown.
let redis = EmbeddedRedis(dataDir: URL(fileURLWithPath: "/tmp/bedrock-bench-\(getpid())"))
/// The bars every engine run is fed: the synthetic BTCUSDT market, 1h.
let engineSeries = SyntheticMarket.generate(.btcusdt, bars: engineBars, seed: 9)

/// A counter that makes each engine run's key prefix new: a fresh stream, group and ledger.
final class RunCounter: @unchecked Sendable {
    // @unchecked Sendable: only the benchmark's own thread calls `next()`.
    private var value = 0
    func next() -> Int { value += 1; return value }
}
let runs = RunCounter()

/// One engine run: `engineBars` bars appended to a fresh stream (not measured), then one engine
/// with the default strategies (pullback, oops) started and timed until it has processed every bar.
func engineRun(_ benchmark: Benchmark) throws {
    let prefix = "bench\(runs.next()):"
    let conn = try RedisConnection(redis.address)
    let topic = "klines:\(market):\(interval)"
    _ = try conn.pipeline(
        engineSeries.bars.map { bar in
            [
                "XADD", StreamKeys.key(prefix: prefix, topic: topic), "*", "event",
                KlineEvent.encode(bar, market: market, interval: interval, now: 0),
            ]
        })
    let settings = EngineSettings(prefix: prefix, consumer: "bench", discoverIntervalMillis: 10, blockMillis: 100)
    let ledger = try Ledger(settings: LedgerSettings(prefix: prefix, initialBalance: 100_000, commissionRate: 0.001))
    let engine = try LiveEngine(address: redis.address, ledger: ledger, settings: settings)
    let start = ContinuousClock.now
    benchmark.startMeasurement()
    engine.start()
    let deadline = start + .seconds(60)
    while engine.metrics.count("bars_processed") < engineBars {
        guard ContinuousClock.now < deadline else {
            engine.stop()
            throw EngineBenchmarkError.stalled(processed: engine.metrics.count("bars_processed"))
        }
        usleep(1_000)
    }
    benchmark.stopMeasurement()
    let elapsed = (ContinuousClock.now - start).components
    engine.stop()
    benchmark.measurement(
        .barsPerSecond, Int(Double(engineBars) / (Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18)))
}

enum EngineBenchmarkError: Error {
    /// The engine had not processed every bar after 60 s.
    case stalled(processed: Int64)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark(
        "live engine, 1,000 bars through Redis (pullback + oops, ledger writes)",
        configuration: .init(
            metrics: [.wallClock, .cpuTotal, .barsPerSecond], units: [.barsPerSecond: .count],
            warmupIterations: 1,
            maxDuration: .seconds(30), maxIterations: 5,
            setup: { try redis.start() },
            teardown: {
                redis.stop()
                try? FileManager.default.removeItem(at: redis.dataDir)
            })
    ) { benchmark in
        try engineRun(benchmark)
    }

    let secret = "bench-secret-0123456789abcdef0123456789abcd"
    let now: Int64 = 1_800_000_000
    let token = JWTSigner(secret: secret).sign(sub: "user-12345", role: .trader, now: now)
    let verifier = JWTVerifier(secret: secret)
    Benchmark(
        "JWT HS256 verification",
        configuration: .init(
            metrics: [.wallClock, .throughput, .mallocCountTotal],
            scalingFactor: .kilo, maxDuration: .seconds(5))
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(verifier.verify(token, now: now))
        }
    }
}
