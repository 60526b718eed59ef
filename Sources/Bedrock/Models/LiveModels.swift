import GatewayCore
import JSONCodec
import Logging
import Prometheus
import RedisClient
import Synchronization
import TradingCore

/// The deployed models as the live engine scores with them: a per-process cache of
/// `<prefix>models:traffic` (read again at most once a second, by whichever thread scores next)
/// and of the parsed models by `name@version` (parsed once, never per bar).
///
/// Scoring a signal picks a version by `ModelTraffic.pick` and runs its trees in memory. A
/// version that fails to load (stored JSON that does not parse or does not fit) or scores NaN
/// gives no score: the signal goes on with the other arbiter inputs, the failure is counted
/// (`bedrock_ml_score_failures_total`) and raised ONCE per version per outage as `risk.alert`
/// `ML_MODEL_FAILED` (the outage ends when that version scores again). A failed load is tried
/// again after `retrySeconds`. Successful scores are counted per version
/// (`bedrock_ml_scored_total{model}`).
///
/// Threading: all state is in one `Mutex`; Redis reads and parsing happen outside it on the
/// caller's thread and connection (the engine thread's at a bar with an entry, or a worker's
/// for `signals.generate`), and a refresh publishes new traffic only together with its parsed
/// versions.
public final class LiveModels: Sendable {
    /// What a score attempt gave.
    public struct Scored: Sendable, Equatable {
        /// probability × 100, nil when no version is deployed or the picked one failed.
        public var score: Double?
        /// The picked version (`name@version`) when it scored.
        public var model: String?
        /// The picked version and why it gave no score, when it failed.
        public var failure: (model: String, message: String)?

        /// A score attempt's result (all nil: nothing deployed).
        public init(score: Double? = nil, model: String? = nil, failure: (model: String, message: String)? = nil) {
            self.score = score; self.model = model; self.failure = failure
        }

        public static func == (a: Scored, b: Scored) -> Bool {
            a.score == b.score && a.model == b.model && a.failure?.model == b.failure?.model
                && a.failure?.message == b.failure?.message
        }
    }

    private enum Loaded {
        case ready(TreeEnsemble)
        case failed(String, retryAt: Double)
    }

    private struct State {
        var traffic = ModelTraffic()
        var loaded: [String: Loaded] = [:]
        var nextRefresh = -Double.infinity
        var alerted: Set<String> = []
        /// Traffic reads started, and the newest one applied.
        var reads = 0
        var applied = 0
    }

    /// The registry read from.
    public let registry: ModelRegistry
    /// Seconds between reads of the traffic hash.
    public let refreshSeconds: Double
    /// Seconds before a version that failed to load is tried again.
    public let retrySeconds: Double
    private let clock: any GatewayClock
    private let load: @Sendable (String, RedisConnection) throws -> TreeEnsemble
    private let state = Mutex(State())
    private let failures: Counter
    private let registryMetrics: MetricsRegistry
    private let scoredCounters = Mutex<[String: Counter]>([:])
    private let log = Logger(label: "bedrock.models")

    /// Live models of `registry`, counted in `metrics`.
    public convenience init(
        registry: ModelRegistry, metrics: MetricsRegistry, clock: any GatewayClock = SystemClock(),
        refreshSeconds: Double = 1, retrySeconds: Double = 30
    ) {
        self.init(
            registry: registry, metrics: metrics, clock: clock, refreshSeconds: refreshSeconds, retrySeconds: retrySeconds,
            load: { try registry.load(reference: $0, on: $1) })
    }

    /// Live models parsing each version with `load` (`ModelRegistry.load` in the gateway; tests
    /// pause it to score while a refresh parses).
    init(
        registry: ModelRegistry, metrics: MetricsRegistry, clock: any GatewayClock, refreshSeconds: Double,
        retrySeconds: Double, load: @escaping @Sendable (String, RedisConnection) throws -> TreeEnsemble
    ) {
        self.registry = registry; self.clock = clock; self.load = load
        self.refreshSeconds = refreshSeconds; self.retrySeconds = retrySeconds
        registryMetrics = metrics
        failures = metrics.counter(
            "bedrock_ml_score_failures_total",
            help: "Signals left without an ML score because the picked model version failed to load or to score.")
    }

    /// Reads the traffic when a second has passed since the last read, parses the deployed
    /// versions not parsed yet (or whose failed load is due for a retry), and only then swaps
    /// the traffic and the parsed versions together: until the swap, signals keep being scored
    /// by the previous traffic, so a deploy never leaves a signal without a score. Parsing runs
    /// on the caller's thread outside the lock (other threads score meanwhile). A read older
    /// than the last one applied (two refreshes overlapping) is dropped. Redis errors are thrown
    /// (the caller's round fails as for any Redis error) and change nothing.
    public func refresh(on c: RedisConnection) throws {
        let now = clock.read().monotonic
        let ticket = state.withLock { s -> Int? in
            guard now >= s.nextRefresh else { return nil }
            s.nextRefresh = now + refreshSeconds
            s.reads += 1
            return s.reads
        }
        guard let ticket else { return }
        let traffic = try registry.traffic(on: c)
        let wanted = state.withLock { s -> [String] in
            traffic.shares.keys.filter { ref in
                switch s.loaded[ref] {
                case .ready: return false
                case .failed(_, let retryAt): return now >= retryAt
                case nil: return true
                }
            }
        }
        var fresh: [String: Loaded] = [:]
        for ref in wanted.sorted() {
            do {
                fresh[ref] = .ready(try load(ref, c))
            } catch let error as ModelFormatError {
                fresh[ref] = .failed("stored model does not load: \(error.message)", retryAt: now + retrySeconds)
            } catch let error as APIError {
                fresh[ref] = .failed(error.message, retryAt: now + retrySeconds)
            }
        }
        state.withLock { s in
            guard ticket > s.applied else { return }
            s.applied = ticket
            s.traffic = traffic
            s.loaded = s.loaded.filter { traffic.shares[$0.key] != nil }.merging(fresh) { _, new in new }
            s.alerted = s.alerted.filter { traffic.shares[$0] != nil }  // a redeployed version alerts afresh
        }
    }

    /// The ML score of the signal of `strategy` on `market` `interval` at `barTime` with
    /// `features` (in memory: no I/O).
    public func score(strategy: String, market: String, interval: String, barTime: String, features: [Double]) -> Scored {
        let (picked, loaded) = state.withLock { s -> (String?, Loaded?) in
            let ref = s.traffic.pick(strategy: strategy, market: market, interval: interval, barTime: barTime)
            return (ref, ref.flatMap { s.loaded[$0] })
        }
        guard let picked else { return Scored() }
        switch loaded {
        case .ready(let ensemble):
            let p = ensemble.probability(features)
            guard p.isFinite else {
                failures.increment()
                return Scored(failure: (picked, "\(picked) scored NaN"))
            }
            scored(picked).increment()
            return Scored(score: p * 100, model: picked)
        case .failed(let message, _):
            failures.increment()
            return Scored(failure: (picked, "\(picked): \(message)"))
        case nil:
            failures.increment()
            return Scored(failure: (picked, "\(picked) is not loaded"))
        }
    }

    /// True when the failure of `model` should be alerted now (its first in this outage); marks it.
    public func shouldAlert(_ model: String) -> Bool {
        state.withLock { $0.alerted.insert(model).inserted }
    }

    /// Ends the outage of `model` (it scored again): its next failure is alerted again.
    public func recovered(_ model: String) {
        state.withLock { s in
            if !s.alerted.isEmpty { s.alerted.remove(model) }
        }
    }

    /// Forgets the read traffic so the next `refresh` reads it at once (tests, after a deploy).
    public func expire() { state.withLock { $0.nextRefresh = -.infinity } }

    /// `bedrock_ml_scored_total{model}`, bound once per version.
    private func scored(_ model: String) -> Counter {
        scoredCounters.withLock { cache in
            if let c = cache[model] { return c }
            let c = registryMetrics.counter(
                "bedrock_ml_scored_total", help: "Signals scored by each model version.", labels: [("model", model)])
            cache[model] = c
            return c
        }
    }
}
