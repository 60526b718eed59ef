// LLM figures (docs/BENCHMARKS.md, "LLM"; docs/LLM.md, "Measurements"): a market's sentiment
// answered from the cache (target < 1 ms), i.e. `SentimentBook.lookup` on a warm book — every
// market asked and answered, the answer within its TTL and its price band — of 10, 100 and 1,000
// markets, alone and through the `Mutex` a gateway keeps the book in. Pure LLMCore, no I/O. Run
// with `swift package benchmark --target LLMBenchmarks` in Benchmarks/.
import Benchmark
import GatewayCore
import LLMCore
import Synchronization

/// A book of `markets` markets (`M0`, `M1`, ...), each with one headline asked about and answered
/// at monotonic second 0, price 100; lookups at second 10 and price 100 are all cache hits.
func warmBook(markets: Int) -> SentimentBook {
    var book = SentimentBook(config: SentimentBookConfig(maxConcurrency: markets, maxMarkets: markets))
    let start = ClockReading(monotonic: 0, wall: 1_800_000_000)
    for index in 0..<markets {
        let market = "M\(index)"
        _ = book.newsArrived(market, NewsHeadline(title: "Headline \(index) for \(market)", source: "bench"), at: start)
        _ = book.lookup(market, price: 100, at: start)
    }
    let asked = ClockReading(monotonic: 5, wall: 1_800_000_005)
    for ask in book.due(at: asked, outage: OutagePolicy()) {
        _ = book.answered(ask.id, SentimentAnswer(sentiment: .positive, reason: "bench"), at: asked)
    }
    return book
}

/// Reads after the answers: still valid (TTL 3600 s, same price).
let readAt = ClockReading(monotonic: 10, wall: 1_800_000_010)

/// One lookup per iteration over the markets in turn; fails unless every one is a cache hit.
func measureLookups(_ benchmark: Benchmark, markets: Int) throws {
    var book = warmBook(markets: markets)
    let names = (0..<markets).map { "M\($0)" }
    var hits = 0
    benchmark.startMeasurement()
    for iteration in benchmark.scaledIterations {
        let reading = book.lookup(names[iteration % markets], price: 100, at: readAt)
        if reading.source != .fallback { hits += 1 }
    }
    benchmark.stopMeasurement()
    guard hits == benchmark.scaledIterations.count else { throw LookupError.notFromCache(hits: hits) }
}

enum LookupError: Error {
    /// A lookup on the warm book was not answered from the cache.
    case notFromCache(hits: Int)
}

/// Runs of 1,000 lookups each (up to 1,000 runs or 5 s) after one warm-up: the wall clock is shown
/// per lookup (the scaling factor divides it).
func configuration() -> Benchmark.Configuration {
    Benchmark.Configuration(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident], timeUnits: .nanoseconds,
        warmupIterations: 1, scalingFactor: .kilo, maxDuration: .seconds(5), maxIterations: 1000)
}

let benchmarks: @Sendable () -> Void = {
    for markets in [10, 100, 1000] {
        Benchmark("sentiment from the cache: SentimentBook.lookup, \(markets) markets", configuration: configuration()) {
            benchmark in
            try measureLookups(benchmark, markets: markets)
        }
    }

    Benchmark("sentiment from the cache: lookup through a Mutex, 1000 markets", configuration: configuration()) {
        benchmark in
        let book = Mutex(warmBook(markets: 1000))
        let names = (0..<1000).map { "M\($0)" }
        var hits = 0
        benchmark.startMeasurement()
        for iteration in benchmark.scaledIterations {
            let reading = book.withLock { $0.lookup(names[iteration % 1000], price: 100, at: readAt) }
            if reading.source != .fallback { hits += 1 }
        }
        benchmark.stopMeasurement()
        guard hits == benchmark.scaledIterations.count else { throw LookupError.notFromCache(hits: hits) }
    }
}
