import Foundation
import GatewayCore
import LLMClient
import LLMCore
import Logging
import RedisClient
import TradingCore

/// The gateway's LLM layer (SPEC §12; docs/LLM.md), when `llm.provider` names a model:
///
/// - Sentiment: headlines from the `news` stream (`NewsReader`) go into the `SentimentBook`,
///   which coalesces a market's burst into one call per `llm.batch_window_s`; answers are cached
///   `llm.cache_ttl_s` or until the market's price moves more than 5 %. Signals read the cache
///   (`sentiment(market:price:)`) and never wait.
/// - Explanations: each new signal queues a call (`explain`); the answer replaces the stored
///   template and is announced as `signal.explained` (`explain_signal.lua`, one atomic step).
/// - Journal and review (`write`): interactive calls on an API worker, ahead of background work.
/// - Failures fall back (NEUTRAL, the template, UNAVAILABLE for interactive calls), are counted
///   on `/metrics` (`LLMMetrics`), honour `Retry-After`, and raise one `risk.alert`
///   `LLM_UNAVAILABLE` per outage (`OutagePolicy`). After `circuit.failure_threshold` calls in a
///   row without an answer the provider's circuit opens: no call for `circuit.cooldown_s`, each
///   falling back at once (`deferred`), then one probe (`call`).
///
/// Threads: `llm.max_concurrency` scheduler threads (`bedrock-llm-N`) make the background calls,
/// each with its own Redis connection; the news reader has its own. Every model call holds one
/// of the `LLMWork` slots, so at most `max_concurrency` are in flight over all tasks.
public final class LLMService: Sendable {
    let config: GatewayConfig.LLM
    let prompts: PromptLibrary
    let client: OpenAIChatClient
    let ledger: Ledger
    let address: RedisAddress
    let newsStream: String
    /// `redis.prefix`.
    let prefix: String
    let clock: any GatewayClock
    let metrics: LLMMetrics
    let work: LLMWork
    /// The provider's circuit (`DependencyCircuits.llm`); nil: none (tests).
    let circuit: SharedCircuitBreaker?
    let log = Logger(label: "bedrock.llm")
    /// Longest a journal or review call waits for a free slot before UNAVAILABLE.
    static let interactiveSlotWait = 10.0
    /// Longest explanation kept, in characters (a longer answer is cut).
    static let maxExplanation = 2_000
    /// This process among the gateways sharing the Redis (the owner of its sentiment asks).
    let instance = "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

    /// A service for `config` (a provider must be set); reads the prompts (throws naming a bad
    /// file). Every model call asks `circuit` first. Nothing runs until `start`.
    public init(
        config: GatewayConfig, ledger: Ledger, address: RedisAddress, registry: MetricsRegistry,
        circuit: SharedCircuitBreaker? = nil, clock: any GatewayClock = SystemClock()
    ) throws(GatewayStartError) {
        let llm = config.llm
        precondition(llm.enabled, "LLMService needs llm.provider")
        self.config = llm
        prompts = try PromptLibrary(directory: llm.promptsDir)
        do {
            client = try OpenAIChatClient(
                configuration: OpenAIChatConfiguration(
                    baseURL: llm.baseURL, model: llm.model, apiKey: llm.apiKey,
                    timeout: .milliseconds(Int64((llm.timeoutS * 1000).rounded())), maxConcurrency: llm.maxConcurrency))
        } catch {
            throw GatewayStartError("llm: \(error)")
        }
        self.ledger = ledger
        self.address = address
        newsStream = config.streamKey(for: .news)
        prefix = config.redis.prefix
        self.clock = clock
        self.circuit = circuit
        metrics = LLMMetrics(registry: registry)
        let book = SentimentBook(
            config: SentimentBookConfig(
                cacheTTL: llm.cacheTTLS, batchWindow: llm.batchWindowS, maxConcurrency: llm.maxConcurrency))
        work = LLMWork(
            book: book, slots: llm.maxConcurrency, outage: OutagePolicy(quietPeriod: llm.outageQuietS), clock: clock)
    }

    /// Starts the scheduler threads and the news reader.
    public func start() {
        for index in 0..<config.maxConcurrency {
            let thread = Thread { [self] in runScheduler() }
            thread.name = "bedrock-llm-\(index)"
            thread.start()
        }
        let reader = NewsReader(service: self)
        let thread = Thread { reader.run() }
        thread.name = "bedrock-llm-news"
        thread.start()
        log.info("llm: \(config)")
    }

    /// Stops taking work; calls in flight end by their timeout, their answers dropped.
    public func stop() { work.stop() }

    /// Whether the service still runs.
    var running: Bool { work.locked { s, _ in s.running } }

    /// A market's sentiment as `sentiment.get` answers it.
    public func reading(_ market: String) -> SentimentReading {
        work.locked { s, now in s.book.lookup(market, price: nil, at: now) }
    }

    /// The readings of every market the book tracks (with news or a bar seen).
    public func readings() -> [SentimentReading] {
        work.locked { s, now in s.book.trackedMarkets.map { s.book.lookup($0, price: nil, at: now) } }
    }

    /// Entries of the news stream, in stream order: a headline goes to its market (one without a
    /// market to every tracked market), a shared answer is adopted (`replaying`: read back at
    /// start).
    /// The lock is taken once per entry, so a large batch never holds the bar path up.
    func newsArrived(_ entries: [NewsStreamEntry], replaying: Bool) {
        for entry in entries {
            work.locked(wake: true) { s, now in
                switch entry {
                case .headline(let item):
                    let markets = item.market.map { [$0] } ?? s.book.trackedMarkets
                    for market in markets { _ = s.book.newsArrived(market, item.headline, at: now) }
                case .sentiment(let shared):
                    s.book.adopt(shared, replaying: replaying, at: now)
                }
            }
        }
    }

    /// The scheduler thread: takes a job with its slot, calls the model, gives the slot back.
    private func runScheduler() {
        let redis = LazyRedisConnection(address: address)
        while let job = work.take() {
            metrics.setInFlight(work.locked { s, _ in s.inFlight })
            switch job {
            case .sentiment(let ask): runSentiment(ask, redis: redis)
            case .explanation(let job): runExplanation(job, redis: redis)
            }
            work.release()
            metrics.setInFlight(work.locked { s, _ in s.inFlight })
        }
    }
}

extension LLMService: LLMSignalHooks {
    public func observe(market: String, price: Double) {
        work.locked { s, now in s.book.observe(market, price: price, at: now) }
    }

    public func sentiment(market: String, price: Double) -> LLMSentiment {
        work.locked { s, now in s.book.lookup(market, price: price, markRead: false, at: now).sentiment }
    }

    public func explain(signalID: Int64, signal: SignalInput) {
        if work.queue(ExplanationJob(signalID: signalID, signal: signal)) { record(.explanation, .deferred) }
    }
}
