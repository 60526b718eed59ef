import Exchanges
import Foundation
import GatewayCore
import JSONCodec
import Logging
import MarketDataCore
import RedisClient
import Synchronization

/// Live market data in `serve` (SPEC §10, docs/MARKET_DATA.md): one worker thread per configured
/// market (`MarketWorker`), and one lease keeper thread that holds, renews and gives up the
/// markets' leases so one gateway at a time ingests each market, telling the workers as leases
/// come and go.
final class MarketIngest: Sendable {
    /// The markets ingested (by any gateway sharing the Redis).
    let markets: [ConfiguredMarket]
    private let context: MarketIngestContext
    private let workers: [MarketWorker]
    private let feeds: ExchangeFeeds
    private let board = MarketStatusBoard()
    private let stopping = Atomic<Bool>(false)
    private let keeperWake = DispatchSemaphore(value: 0)
    private let finished = DispatchGroup()
    private let log = Logger(label: "bedrock.market_data")

    /// The ingest of `config.marketData.markets`.
    init(
        config: GatewayConfig, address: RedisAddress, ledger: Ledger, metrics: MetricsRegistry,
        circuits: DependencyCircuits? = nil, clock: any GatewayClock = SystemClock()
    ) throws {
        let m = config.marketData
        let board = board
        let series = MarketDataMetrics(registry: metrics)
        let context = MarketIngestContext(
            settings: MarketIngestSettings(
                prefix: config.redis.prefix, backfillBars: m.backfillBars, retainBars: m.retainBars,
                staleAfterIntervals: m.staleAfterIntervals, sampleBarS: m.sampleBarS, leaseMs: m.leaseMs,
                gatewayID: EngineSettings.defaultConsumer()),
            address: address, ledger: ledger,
            appender: try KlineAppender(prefix: config.redis.prefix, retainBars: m.retainBars), metrics: series, clock: clock,
            report: { market, status in board.set(market.topic, status) })
        self.context = context
        markets = m.markets
        let inboxes = Dictionary(uniqueKeysWithValues: m.markets.map { ($0.topic, MarketInbox()) })
        let feeds = ExchangeFeeds(
            markets: m.markets, endpoints: m.endpoints, inboxes: inboxes, metrics: series, circuits: circuits, clock: clock,
            banned: { exchange, wait in Self.exchangeBanned(exchange, wait: wait, context: context) })
        self.feeds = feeds
        workers = m.markets.map { market in
            MarketWorker(market: market, context: context, history: feeds.history(of: market), inbox: inboxes[market.topic]!)
        }
    }

    /// `risk.alert` `EXCHANGE_BANNED`, on a connection of its own (rare; the caller's worker is
    /// about to wait out the ban).
    private static func exchangeBanned(_ exchange: Exchange, wait: Double, context: MarketIngestContext) {
        let seconds = Int(wait.rounded(.up))
        do {
            let connection = try RedisConnection(context.address, connectTimeout: 2, readTimeout: 5)
            _ = try context.ledger.run(
                "market_data_alert",
                [
                    "action": "EXCHANGE_BANNED", "market": .null, "interval": .null, "exchange": .string(exchange.rawValue),
                    "message": .string("\(exchange) banned this gateway's IP (HTTP 418); nothing is sent to it for \(seconds) s"),
                    "value": .int(Int64(seconds)), "limit": .int(0), "details": ["retry_after_s": .int(Int64(seconds))],
                ], on: connection)
        } catch {
            Logger(label: "bedrock.market_data").warning("market data: raising EXCHANGE_BANNED: \(error)")
        }
    }

    /// Starts the workers, the lease keeper and the exchanges' live streams.
    func start() throws {
        try feeds.start()
        for worker in workers {
            spawn("bedrock-md-\(worker.market.symbol.id)-\(worker.market.interval.rawValue)") { worker.run() }
        }
        spawn("bedrock-md-leases") { [self] in keepLeases() }
        log.info(
            "market data: ingesting \(markets.map { "\($0.source):\($0.symbol.display):\($0.interval.rawValue)" }.joined(separator: ", "))"
        )
    }

    /// Stops every thread and gives the leases up (the next gateway takes over at once).
    func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        feeds.stop()
        for worker in workers { worker.inbox.post(.stop) }
        keeperWake.signal()
        finished.wait()
    }

    /// `checks.market_data` of `/ready`: markets this gateway ingests and which are stale.
    var readiness: JSONValue {
        let snapshot = board.snapshot
        let stale = snapshot.filter { $0.value == .stale }.keys.sorted()
        return .object([
            "status": .string(stale.isEmpty ? "ok" : "stale"),
            "markets": .int(Int64(markets.count)),
            "ingesting": .int(Int64(snapshot.count)),
            "stale": .array(stale.map { .string($0) }),
        ])
    }

    private func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
        finished.enter()
        let thread = Thread { [finished] in
            body()
            finished.leave()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    // MARK: leases

    /// Every third of `lease_ms`: renew the leases held, take free ones up to this gateway's fair
    /// share (gateways sharing a Redis split the markets), give back those above it, keep the
    /// status hashes alive; tell each worker when its lease comes or goes. On Redis errors every
    /// lease counts as lost (the workers stop appending) until Redis answers again.
    private func keepLeases() {
        let s = context.settings
        var held = Set<String>()
        var connection: RedisConnection?
        while !stopping.load(ordering: .acquiring) {
            do {
                if connection == nil || connection!.isBroken {
                    connection = try RedisConnection(context.address, connectTimeout: 2, readTimeout: 5)
                }
                let c = connection!
                let target = try fairShare(on: c)
                for worker in workers {
                    let m = worker.market
                    let key = MarketDataKeys.lease(prefix: s.prefix, market: m.symbol.id, interval: m.interval.rawValue)
                    if held.contains(m.topic) {
                        if try RedisLease.renew(key, owner: s.gatewayID, millis: s.leaseMs, on: c) {
                            let status = MarketDataKeys.status(
                                prefix: s.prefix, market: m.symbol.id, interval: m.interval.rawValue)
                            _ = try c.command(["PEXPIRE", status, String(s.leaseMs)]).checked()
                        } else {
                            lost(worker, &held)
                        }
                    } else if held.count < target, try RedisLease.acquire(key, owner: s.gatewayID, millis: s.leaseMs, on: c) {
                        held.insert(m.topic)
                        worker.inbox.post(.leaseGranted)
                    }
                }
                // Above the fair share (another gateway came up): give the last ones back.
                for worker in workers.reversed() where held.count > target && held.contains(worker.market.topic) {
                    let m = worker.market
                    let key = MarketDataKeys.lease(prefix: s.prefix, market: m.symbol.id, interval: m.interval.rawValue)
                    try RedisLease.release(key, owner: s.gatewayID, on: c)
                    lost(worker, &held)
                }
            } catch {
                connection = nil
                for worker in workers where held.contains(worker.market.topic) { lost(worker, &held) }
            }
            _ = keeperWake.wait(timeout: .now() + .milliseconds(max(100, s.leaseMs / 3)))
        }
        release(held, on: connection)
    }

    /// This gateway's fair share of its markets: ⌈markets ÷ gateways alive⌉, the gateways alive
    /// being those that beat in `<prefix>market_data:gateways` within the last `lease_ms` (each
    /// beats every round, so a stopped one drops out as fast as its leases expire).
    private func fairShare(on c: RedisConnection) throws -> Int {
        let s = context.settings
        let key = MarketDataKeys.gateways(prefix: s.prefix)
        let now = Int64(context.clock.read().wall * 1000)
        let replies = try c.pipeline([
            ["ZADD", key, String(now), s.gatewayID],
            ["ZREMRANGEBYSCORE", key, "-inf", "(" + String(now - Int64(s.leaseMs))],
            ["ZCARD", key],
        ])
        let live = max(1, Int(try replies[2].checked().integer ?? 1))
        return (markets.count + live - 1) / live
    }

    private func lost(_ worker: MarketWorker, _ held: inout Set<String>) {
        held.remove(worker.market.topic)
        worker.inbox.post(.leaseLost)
        board.set(worker.market.topic, nil)
    }

    /// At stop (the workers are stopping too): give up each lease, remove its status hash and
    /// leave the gateways' set (the others take the markets over at their next round).
    private func release(_ held: Set<String>, on connection: RedisConnection?) {
        guard let c = connection, !c.isBroken else { return }
        let s = context.settings
        _ = try? c.command(["ZREM", MarketDataKeys.gateways(prefix: s.prefix), s.gatewayID])
        for m in markets where held.contains(m.topic) {
            let id = m.symbol.id, interval = m.interval.rawValue
            try? RedisLease.release(
                MarketDataKeys.lease(prefix: s.prefix, market: id, interval: interval), owner: s.gatewayID, on: c)
            _ = try? c.command(["DEL", MarketDataKeys.status(prefix: s.prefix, market: id, interval: interval)])
        }
    }
}

/// The status of each market this gateway ingests (for `/ready`), by topic.
final class MarketStatusBoard: Sendable {
    private let statuses = Mutex<[String: MarketFeed.Status]>([:])

    /// Sets (nil: removes) the status of `topic`.
    func set(_ topic: String, _ status: MarketFeed.Status?) { statuses.withLock { $0[topic] = status } }

    /// Every status.
    var snapshot: [String: MarketFeed.Status] { statuses.withLock { $0 } }
}
