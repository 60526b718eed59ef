import Digests
import Foundation
import GatewayCore
import Logging
import RedisClient
import TradingCore

/// The live trading engine: consumes closed bars from every `<prefix>stream:klines:*` stream
/// through one Redis consumer group (`<prefix>engine`), so that with several gateways on one Redis
/// each bar is processed by exactly one of them, and runs `BarPipeline` on each (pending stop
/// entries, exits and marks, strategies → signals → arbiter → risk-gated entries).
///
/// - Streams are discovered with `SCAN … TYPE stream` every `discoverIntervalMillis`; the group is
///   created on each with `XGROUP CREATE key group <startFrom> MKSTREAM` (`0` by default: a new
///   group processes every retained bar once; `BUSYGROUP` means another gateway made it).
/// - Bars are read with `XREADGROUP … >` (after a one-entry `XREAD BLOCK blockMillis` from the
///   group's position says which streams have new bars; `BarGapWatch`, which also raises
///   `MARKET_DATA_GAP` for bars trimmed unread) and acknowledged with `XACK`
///   only after every ledger write of the bar succeeded. A failure leaves the bar pending: this
///   consumer re-reads its own pending bars (id `0`) after any error, and bars left pending by a
///   crashed consumer are claimed with `XAUTOCLAIM` once idle for `claimIdleMillis` and
///   reprocessed. Reprocessing is harmless: the ledger scripts are idempotent per strategy +
///   market + interval + bar (signals) and per signal (positions).
/// - History: see `StrategyBook` (incremental when the bar follows the last one this engine saw
///   in that stream, else rebuilt from the stream with `XREVRANGE`). A history bar
///   (`"backfill": true`) is fed to the strategies like any bar, then, unless
///   `engine.trade_history`, only acknowledged (`BarPipeline.process`): warm-up without trading.
///
/// Threading: one dedicated thread with its own blocking connection; never the event loop.
/// `start`/`stop` may be called from any thread; `stop` waits for the thread to finish its bar.
public final class LiveEngine: @unchecked Sendable {
    // Sound: `running`/`thread` are guarded by `lock`; everything else used by the loop is
    // touched only by the engine thread.
    /// Settings in effect.
    public let settings: EngineSettings
    /// The per-bar pipeline.
    public let pipeline: BarPipeline
    /// Trading counters (in `metrics.registry`, on `/metrics` when it is the gateway's).
    public let metrics: EngineMetrics
    private let address: RedisAddress
    private let log = Logger(label: "bedrock.engine")
    private let lock = NSLock()
    private var running = false
    private var finished: DispatchSemaphore?

    private var connection: RedisConnection?
    private var streams: [String] = []
    private var known: Set<String> = []
    private var owned: Set<String> = []
    private var live = 1
    private var nextLease: Int64 = 0
    private var books: [String: StrategyBook] = [:]
    private let gaps = BarGapWatch()
    private var origins: [Int64: BarPipeline.PositionOrigin] = [:]
    private var ownPendingChecked = false
    private var nextDiscover: Int64 = 0
    private var nextClaim: Int64 = 0
    private var nextSample: Int64 = 0
    private var nextConfigCheck: Int64 = 0
    /// The stored configuration text last applied (nil: the file's).
    private var appliedConfig: String?
    /// Where run-time configuration versions are read (nil: the file's only).
    private let configs: EngineConfigStore?
    /// Monotonic time schedules discovery, lease renewal, claims and samples (a step of the
    /// system clock must not stall lease renewal); the consumers' heartbeat scores stay wall time
    /// (every gateway compares them).
    private let clock: any GatewayClock

    /// An engine reading `address` and writing `ledger`, scoring new signals with `models` and
    /// giving them the LLM's sentiment and explanations through `llm` when given; throws for
    /// unknown strategies.
    public init(
        address: RedisAddress, ledger: Ledger, settings: EngineSettings, metrics: EngineMetrics = EngineMetrics(),
        clock: any GatewayClock = SystemClock(), models: LiveModels? = nil, llm: (any LLMSignalHooks)? = nil,
        configs: EngineConfigStore? = nil
    ) throws {
        try settings.validate()
        self.clock = clock
        self.configs = configs
        self.address = address; self.settings = settings; self.metrics = metrics
        pipeline = BarPipeline(ledger: ledger, settings: settings, metrics: metrics, models: models, llm: llm)
    }

    /// Starts the engine thread (no-op when running).
    public func start() {
        lock.lock(); defer { lock.unlock() }
        guard !running else { return }
        running = true
        let done = DispatchSemaphore(value: 0)
        finished = done
        let thread = Thread { [self] in
            while isRunning { round() }
            releaseAll()
            connection = nil
            done.signal()
        }
        thread.name = "bedrock-engine"
        thread.start()
    }

    /// Stops the engine and waits (up to `timeout` seconds) for the bar in progress to finish.
    public func stop(timeout: Double = 10) {
        lock.lock()
        let done = finished
        running = false
        finished = nil
        lock.unlock()
        _ = done?.wait(timeout: .now() + timeout)
    }

    /// True between `start` and `stop`.
    public var isRunning: Bool { lock.lock(); defer { lock.unlock() }; return running }

    // MARK: the loop (engine thread only)

    private func round() {
        do {
            let c = try connect()
            let now = monotonicMillis()
            try refreshConfigurationIfDue(on: c)
            if now >= nextDiscover {
                try discover(on: c)
                nextDiscover = now + Int64(settings.discoverIntervalMillis)
            }
            if now >= nextLease {
                try leases(on: c)
                nextLease = now + Int64(max(50, settings.leaseMillis / 3))
            }
            guard !streams.isEmpty else {
                Thread.sleep(forTimeInterval: Double(min(settings.blockMillis, settings.discoverIntervalMillis)) / 1000)
                return
            }
            if !ownPendingChecked {
                while try readPending(on: c) > 0 {}
                ownPendingChecked = true
            }
            if now >= nextClaim {
                try claim(on: c)
                nextClaim = now + Int64(settings.claimIntervalMillis)
            }
            if try readNew(on: c) > 0 { try sample(on: c) }
        } catch {
            metrics.add("errors")
            if let e = error as? RedisError, e.breaksConnection { connection = nil }
            if connection?.isBroken == true { connection = nil }
            ownPendingChecked = false
            books = [:]
            gaps.forgetAll()
            log.error("engine: round failed", metadata: ["error": "\(error)"])
            Thread.sleep(forTimeInterval: 0.5)
        }
    }

    /// `refreshConfiguration` at most every `EngineConfigStore.checkIntervalMillis`; called
    /// between rounds and before every bar, so a change (a pause) takes effect within that
    /// interval even during a long catch-up.
    private func refreshConfigurationIfDue(on c: RedisConnection) throws {
        let now = monotonicMillis()
        guard now >= nextConfigCheck else { return }
        nextConfigCheck = now + EngineConfigStore.checkIntervalMillis
        try refreshConfiguration(on: c)
    }

    /// Puts a newly stored configuration version into effect between two bars. When the
    /// strategies changed, their states are rebuilt from each stream's own history on its next
    /// bar (`StrategyBook`), so no bar is skipped or processed twice across the switch; a change
    /// of the arbiter or the status keeps them.
    ///
    /// Fail safe: a stored version this build cannot read (a strategy or parameter it does not
    /// have) pauses the engine — exits and marks go on, no new entry — with one `risk.alert`
    /// `ENGINE_CONFIG_UNREADABLE` per stored text (`engine_alert.lua`) and the
    /// `bedrock_engine_config_unreadable` gauge, until a readable version is stored.
    private func refreshConfiguration(on c: RedisConnection) throws {
        guard let configs else { return }
        let text = try configs.currentText(on: c)
        guard text != appliedConfig else { return }
        let config: EngineConfiguration
        if let text {
            guard let readable = EngineConfiguration.stored(text) else {
                try failSafe(text, on: c)
                return
            }
            config = readable
        } else {
            config = configs.fileConfig
        }
        let strategiesChanged = config.strategies != pipeline.settings.live
        pipeline.apply(config)
        metrics.setConfiguration(version: config.version, paused: config.isPaused, unreadable: false)
        appliedConfig = text
        if strategiesChanged { books = [:] }
        log.info(
            "engine: configuration applied",
            metadata: ["version": "\(config.version)", "status": "\(config.status.rawValue)", "by": "\(config.updatedBy)"])
    }

    /// The engine's answer to an unreadable stored version: paused on the strategies in effect.
    private func failSafe(_ text: String, on c: RedisConnection) throws {
        let header = StoredHeader(text)
        let current = pipeline.settings
        let version = header?.version ?? pipeline.configVersion
        pipeline.apply(
            EngineConfiguration(version: version, status: .paused, strategies: current.live, arbiter: current.arbiter))
        metrics.setConfiguration(version: version, paused: true, unreadable: true)
        let problem = EngineConfigStore.problem(text)
        log.error("engine: stored configuration unreadable, paused (exits and marks only)", metadata: ["problem": "\(problem)"])
        _ = try pipeline.ledger.run(
            "engine_alert",
            [
                "digest": .string(SHA256.hex(text)), "version": header.map { .int(Int64($0.version)) } ?? .null,
                "message": .string(problem + "; the engine is paused (exits and marks only) until a readable version is stored"),
            ], on: c)
        appliedConfig = text
    }

    private func connect() throws -> RedisConnection {
        if let c = connection, !c.isBroken { return c }
        let c = try RedisConnection(address, readTimeout: Double(settings.blockMillis) / 1000 + 10)
        connection = c
        ownPendingChecked = false
        known = []
        nextDiscover = 0
        nextLease = 0
        return c
    }

    /// Finds the kline streams and creates the group on the new ones.
    private func discover(on c: RedisConnection) throws {
        var cursor = "0"
        var found: [String] = []
        repeat {
            let reply = try c.command([
                "SCAN", cursor, "MATCH", settings.prefix + "stream:klines:*", "COUNT", "1000",
                "TYPE", "stream",
            ]).checked()
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string else { break }
            found += (parts[1].array ?? []).compactMap(\.string)
            cursor = next
        } while cursor != "0"
        for key in found where !known.contains(key) {
            let reply = try c.command(["XGROUP", "CREATE", key, settings.groupName, settings.startFrom, "MKSTREAM"])
            if case .error(let message) = reply, !message.hasPrefix("BUSYGROUP") { throw RedisError.server(message) }
            known.insert(key)
            ownPendingChecked = false
            nextLease = 0
        }
        // Heartbeat: how many engines share the streams (dead ones age out after 3 leases).
        let now = Timestamp.nowMillis()
        let members = settings.prefix + "engine:consumers"
        let replies = try c.pipeline([
            ["ZADD", members, String(now), settings.consumer],
            ["ZREMRANGEBYSCORE", members, "-inf", String(now - 3 * Int64(settings.leaseMillis))],
            ["ZCARD", members],
        ])
        live = max(1, Int(try replies[2].checked().integer ?? 1))
    }

    private func monotonicMillis() -> Int64 { Int64(clock.read().monotonic * 1000) }

    // MARK: stream leases

    private func leaseKey(_ stream: String) -> String { settings.prefix + "engine:lease:" + stream }

    /// Renews this engine's stream leases, gives back the ones above its fair share
    /// (⌈streams / live engines⌉) and takes free ones up to it. A newly taken stream first gets
    /// every bar still pending in the group (a crashed or departed owner's), claimed and processed
    /// in stream order, before new bars are read: one engine at a time processes a stream, in order.
    private func leases(on c: RedisConnection) throws {
        for key in owned.sorted() {
            if try !RedisLease.renew(leaseKey(key), owner: settings.consumer, millis: settings.leaseMillis, on: c) {
                owned.remove(key); books[key] = nil; gaps.forget(key)
            }
        }
        let target = (known.count + live - 1) / live
        for key in owned.sorted().reversed() where owned.count > target {
            try RedisLease.release(leaseKey(key), owner: settings.consumer, on: c)
            owned.remove(key); books[key] = nil; gaps.forget(key)
        }
        for key in known.sorted() where !owned.contains(key) && owned.count < target {
            guard try RedisLease.acquire(leaseKey(key), owner: settings.consumer, millis: settings.leaseMillis, on: c) else {
                continue
            }
            owned.insert(key)
            books[key] = nil
            gaps.forget(key)
            try recover(key, on: c)
        }
        streams = owned.sorted()
    }

    /// Claims every pending bar of `key` (any consumer, any idle time) and processes them in order.
    private func recover(_ key: String, on c: RedisConnection) throws {
        try claimPending(key, minIdleMillis: 0, rounds: 10_000, on: c) {
            // A long recovery keeps its lease.
            if try !RedisLease.renew(leaseKey(key), owner: settings.consumer, millis: settings.leaseMillis, on: c) {
                owned.remove(key); books[key] = nil; gaps.forget(key); return false
            }
            return true
        }
    }

    /// `XAUTOCLAIM`s the bars of `key` idle for `minIdleMillis` into this consumer, in stream order,
    /// and processes each; `between` runs after every batch and stops the claim by returning false.
    private func claimPending(
        _ key: String, minIdleMillis: Int, rounds: Int, on c: RedisConnection,
        between: () throws -> Bool = { true }
    ) throws {
        var cursor = "0-0"
        for _ in 0..<rounds {
            let reply = try c.command([
                "XAUTOCLAIM", key, settings.groupName, settings.consumer,
                String(minIdleMillis), cursor, "COUNT", String(settings.batch),
            ]).checked()
            guard let parts = reply.array, parts.count >= 2, let next = parts[0].string else { break }
            for entry in parts[1].array ?? [] {
                metrics.add("bars_claimed")
                try process(entry, key: key, on: c)
            }
            cursor = next
            if cursor == "0-0" { break }
            if try !between() { return }
        }
    }

    /// Gives back every lease and leaves the heartbeat set (best effort, on stop).
    private func releaseAll() {
        guard let c = connection, !c.isBroken else { return }
        for key in owned { try? RedisLease.release(leaseKey(key), owner: settings.consumer, on: c) }
        _ = try? c.command(["ZREM", settings.prefix + "engine:consumers", settings.consumer])
        owned = []
    }

    /// One `XREADGROUP … 0` over every stream (this consumer's pending bars); processes and
    /// acknowledges the bars; returns how many.
    private func readPending(on c: RedisConnection) throws -> Int {
        var args = ["XREADGROUP", "GROUP", settings.groupName, settings.consumer, "COUNT", String(settings.batch)]
        args += ["STREAMS"] + streams + Array(repeating: "0", count: streams.count)
        let reply = try c.command(args)
        if case .error(let message) = reply, message.hasPrefix("NOGROUP") {
            lostGroup()
            return 0
        }
        var count = 0
        for stream in try reply.checked().array ?? [] {
            guard let parts = stream.array, parts.count == 2, let key = parts[0].string else { continue }
            for entry in parts[1].array ?? [] {
                try process(entry, key: key, on: c)
                count += 1
            }
        }
        return count
    }

    /// New bars (`XREADGROUP … >`, waiting up to `blockMillis`), with a `MARKET_DATA_GAP` alert
    /// ahead of the bars that follow a hole (`BarGapWatch`); returns how many were processed.
    private func readNew(on c: RedisConnection) throws -> Int {
        guard
            let read = try gaps.readNew(
                streams, group: settings.groupName, consumer: settings.consumer, count: settings.batch,
                blockMillis: settings.blockMillis, on: c)
        else {
            lostGroup()
            return 0
        }
        for hole in read.holes { try alert(hole, on: c) }
        var count = 0
        for stream in read.streams {
            for entry in stream.entries {
                try process(entry, key: stream.key, on: c)
                count += 1
            }
        }
        return count
    }

    /// A stream was deleted (and maybe re-created): rediscover, re-create the group, re-take leases.
    private func lostGroup() {
        known = []; owned = []; streams = []; books = [:]; nextDiscover = 0; nextLease = 0; gaps.forgetAll()
    }

    /// `risk.alert` `MARKET_DATA_GAP` for bars trimmed before this engine read them.
    private func alert(_ hole: BarGapWatch.Hole, on c: RedisConnection) throws {
        let names = BarGapWatch.marketAndInterval(key: hole.key, prefix: settings.prefix)
        metrics.add("market_data_gaps")
        log.warning(
            "engine: bars trimmed before they were read",
            metadata: ["stream": "\(hole.key)", "after": "\(hole.gap.after)", "next": "\(hole.gap.next)"])
        _ = try pipeline.ledger.marketDataGap(
            market: names?.market ?? hole.key, interval: names?.interval ?? "",
            after: hole.gap.after.description, next: hole.gap.next.description, missed: hole.gap.missed, on: c)
    }

    /// Claims bars idle in other consumers' pending lists (crashed gateways) and processes them.
    private func claim(on c: RedisConnection) throws {
        for key in streams {
            try claimPending(key, minIdleMillis: settings.claimIdleMillis, rounds: 100, on: c)
        }
    }

    /// Runs the pipeline on one stream entry, then `XACK`s it.
    private func process(_ entry: RedisReply, key: String, on c: RedisConnection) throws {
        try refreshConfigurationIfDue(on: c)
        guard let (id, decoded) = StreamBar.decode(entry: entry) else { return }
        guard let bar = decoded else {
            // Not a kline.closed event: nothing to trade on, never retried.
            metrics.add("errors")
            _ = try c.command(["XACK", key, settings.groupName, id]).checked()
            return
        }
        var book = try books[key] ?? StrategyBook(settings: pipeline.settings, market: bar.market)
        books[key] = nil  // re-inserted only once the bar is fully processed
        // A history bar that is not traded needs nothing of the ledger's state.
        let trades = pipeline.trades(bar)
        let replies = try c.pipeline(
            [["XREVRANGE", key, "(" + id, "-", "COUNT", "1"]] + (trades ? pipeline.readCommands(bar, key: key) : []))
        let previousID = try replies[0].checked().array?.first?.array?.first?.string
        let reads = trades ? try BarPipeline.BarReads(replies, offset: 1) : nil
        let decisions: [(name: String, decision: StrategyDecision)]
        if book.lastID == previousID {
            decisions = book.feed(bar.bar, id: id)
        } else {
            metrics.add("history_rebuilds")
            decisions = try book.rebuild(try history(key: key, through: id, on: c))
        }
        try pipeline.process(
            bar, key: key, decisions: decisions, features: book.features(of: decisions),
            previousTime: book.previousBar?.time,
            origins: &origins, reads: reads, then: ["XACK", key, settings.groupName, id], on: c)
        books[key] = book
        metrics.add("bars_processed")
    }

    /// The last `historyBars` bars of `key` up to and including entry `id`, oldest first.
    private func history(key: String, through id: String, on c: RedisConnection) throws -> [StreamBar] {
        try BarPipeline.history(key: key, through: id, count: settings.historyBars, on: c)
    }

    /// Samples open positions and exposure for the gauges, at most once a second.
    private func sample(on c: RedisConnection) throws {
        let now = monotonicMillis()
        guard now >= nextSample else { return }
        nextSample = now + 1000
        let snap = try pipeline.ledger.snapshot(on: c)
        metrics.setOpen(positions: snap.open.count, exposure: snap.exposure)
    }
}

extension BarPipeline {
    /// The last `count` bars of stream `key` up to and including entry `id` (`+` for the newest),
    /// oldest first; entries that are not `kline.closed` events are skipped.
    public static func history(key: String, through id: String, count: Int, on c: RedisConnection) throws -> [StreamBar] {
        let reply = try c.command(["XREVRANGE", key, id, "-", "COUNT", String(count)]).checked()
        return (reply.array ?? []).reversed().compactMap { StreamBar.decode(entry: $0)?.bar }
    }
}
