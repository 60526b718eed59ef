import Exchanges
import Foundation
import GatewayCore
import JSONCodec
import Logging
import MarketDataCore
import RedisClient
import TradingCore

/// REST history of one exchange market, as a worker asks for it (blocking; the worker has its own
/// thread).
protocol MarketHistoryPages: AnyObject, Sendable {
    /// The closed bars of `page`, any order.
    func page(_ page: BackfillCursor.Page) throws -> [ExchangeKline]
    /// Ends a wait in `page` (shutdown).
    func cancel()
}

/// One configured market's ingest, on its own thread: carries out `MarketFeed`'s actions — REST
/// pages (from the exchange, or the in-process sample), appends to the kline stream, alerts, the
/// status hash — while this gateway holds the market's lease. Everything it owns is used on its
/// thread only; other threads talk to it through `inbox`.
final class MarketWorker: @unchecked Sendable {
    // Sound: every stored `var` is used only on the worker's thread (`run`); other threads call
    // `inbox.post` only.

    /// The market.
    let market: ConfiguredMarket
    /// Messages from the lease keeper and the stream hub.
    let inbox: MarketInbox

    private let context: MarketIngestContext
    private let history: (any MarketHistoryPages)?
    private var sample: SampleExchange?
    private var feed: MarketFeed
    private var holdsLease = false
    /// Whether the live stream carries the market now (the sample's always does), kept while
    /// this gateway has no lease so a later start knows.
    private var streamUp: Bool
    private var started = false
    private var retryStartAt = 0.0
    private var pendingFetch: (page: BackfillCursor.Page, at: Double)?
    private var redis: RedisConnection?
    private var lastFailure: String?
    private let log: Logger

    /// A worker for `market` reading `inbox`; `history` is the exchange's REST (nil for the sample
    /// exchange).
    init(market: ConfiguredMarket, context: MarketIngestContext, history: (any MarketHistoryPages)?, inbox: MarketInbox) {
        self.market = market
        self.inbox = inbox
        self.context = context
        self.history = history
        streamUp = history == nil
        let s = context.settings
        if case .sample = market.source {
            sample = SampleExchange(
                symbol: market.symbol, interval: market.interval, barSeconds: s.sampleBarS,
                // One REST page: the live side only needs the newest bar, and a page older than
                // the window (a backfill after a restart) regenerates the series.
                windowBars: s.pageLimit + 16)
        }
        feed = MarketFeed(
            interval: market.interval, backfillBars: s.backfillBars, staleAfterIntervals: s.staleAfterIntervals,
            nowMillis: Int64(context.clock.read().wall * 1000), pageLimit: s.pageLimit)
        log = Logger(label: "bedrock.market_data")
    }

    private var id: String { market.symbol.id }
    private var interval: String { market.interval.rawValue }
    private var name: String { "\(market.source):\(market.symbol.display):\(interval)" }

    /// The worker's loop; returns after `.stop`.
    func run() {
        while true {
            let (items, dropped) = inbox.drain()
            if dropped > 0 { context.metrics.rejected("inbox_full", count: dropped) }
            for item in items {
                switch item {
                case .stop:
                    history?.cancel()
                    return
                case .leaseGranted:
                    holdsLease = true
                    started = false
                    retryStartAt = 0
                case .leaseLost:
                    holdsLease = false
                    stopFeed()
                case .feed(let input):
                    if input == .streamConnected { streamUp = true }
                    if input == .streamDisconnected { streamUp = false }
                    if started { apply(input) }
                }
            }
            step()
            inbox.wait(seconds: nextWake() - now())
        }
    }

    // MARK: the loop

    private func now() -> Double { context.clock.read().monotonic }

    /// The market's wall clock (ms): the exchange's time, or the sample's compressed clock.
    private func wallMillis() -> Int64 {
        if let sample { return sample.wallMillis(monotonic: now()) }
        return Int64(context.clock.read().wall * 1000)
    }

    /// Real seconds until the market's wall clock reaches `wall`.
    private func seconds(untilWall wall: Int64) -> Double {
        let ms = Double(wall - wallMillis())
        guard let sample else { return ms / 1000 }
        return ms / Double(market.interval.nominalMillis) * sample.barSeconds
    }

    private func step() {
        if holdsLease, !started, now() >= retryStartAt { start() }
        guard started else { return }
        if sample != nil, let bars = sample?.liveBars(monotonic: now()) {
            for bar in bars { apply(.liveBar(bar)) }
        }
        if let fetch = pendingFetch, now() >= fetch.at {
            pendingFetch = nil
            run(fetch.page)
        }
        if let check = feed.nextCheckAt, wallMillis() >= check { apply(.tick) }
    }

    private func nextWake() -> Double {
        var wake = now() + 5
        if holdsLease, !started { wake = min(wake, retryStartAt) }
        if started {
            if let fetch = pendingFetch { wake = min(wake, fetch.at) }
            if let check = feed.nextCheckAt { wake = min(wake, now() + max(0, seconds(untilWall: check))) }
            if let sample { wake = min(wake, sample.nextCloseAt()) }
        }
        return wake
    }

    /// With the lease: read where the stream left off and start the feed.
    private func start() {
        do {
            let last = try context.appender.lastOpenTime(market: id, interval: interval, on: connection())
            sample?.open(lastOpenTime: last, backfillBars: context.settings.backfillBars, monotonic: now())
            started = true
            apply(streamUp ? .streamConnected : .streamDisconnected)
            apply(.leaseAcquired(lastOpenTime: last))
        } catch {
            failed("reading the stream", error)
        }
    }

    private func stopFeed() {
        if started { _ = feed.handle(.leaseLost, nowMillis: wallMillis()) }
        started = false
        pendingFetch = nil
    }

    /// Redis failed: drop the connection, stop the feed and start again from the stream in a
    /// second (nothing the feed believed appended is trusted).
    private func failed(_ doing: String, _ error: any Error) {
        let message = "\(name): \(doing): \(error)"
        if message != lastFailure {
            log.warning(
                "market data: ingest failed; retrying",
                metadata: [
                    "market": "\(id)", "interval": "\(interval)", "exchange": "\(market.source)", "what": "\(doing)",
                    "error": "\(error)",
                ])
        }
        lastFailure = message
        redis = nil
        stopFeed()
        retryStartAt = now() + 1
    }

    private func connection() throws -> RedisConnection {
        if let c = redis, !c.isBroken { return c }
        let c = try RedisConnection(context.address, connectTimeout: 2, readTimeout: 5)
        redis = c
        return c
    }

    // MARK: actions

    private func apply(_ input: MarketFeed.Input) {
        let actions = feed.handle(input, nowMillis: wallMillis())
        for action in actions where started { perform(action) }
    }

    private func perform(_ action: MarketFeed.Action) {
        switch action {
        case .fetch(let page):
            pendingFetch = (page, now())
        case .fetchLater(let page, let seconds):
            pendingFetch = (page, now() + seconds)
        case .append(let bars):
            append(bars)
        case .drop(let reason):
            context.metrics.rejected(reason.rawValue)
        case .gap(let from, let to, let missed):
            alert(
                "MARKET_DATA_GAP",
                "\(missed) bars of \(market.symbol.display) \(interval) opening from \(RFC3339.format(milliseconds: from)) to before \(RFC3339.format(milliseconds: to)) are missing on \(market.source)",
                value: Double(missed),
                details: [
                    "from": .string(RFC3339.format(milliseconds: from)), "to": .string(RFC3339.format(milliseconds: to)),
                    "missed": .int(missed),
                ])
        case .stale(let last, let due):
            let lastText = last.map { RFC3339.format(milliseconds: $0) }
            alert(
                "STALE_MARKET_DATA",
                "no closed \(interval) bar of \(market.symbol.display) from \(market.source) since \(lastText ?? "the start"); the next was due at \(RFC3339.format(milliseconds: due))",
                value: Double(context.settings.staleAfterIntervals),
                details: ["last_bar_time": .optional(lastText), "due_at": .string(RFC3339.format(milliseconds: due))])
            context.report(market, .stale)
        case .status(let status):
            publish(status)
        }
    }

    private func run(_ page: BackfillCursor.Page) {
        if sample != nil {
            let bars = sample!.history(startTime: page.startTime, endTime: page.endTime, limit: page.limit, monotonic: now())
            apply(.page(page, bars: bars))
            return
        }
        guard let history else { return }
        do {
            let bars = try history.page(page)
            apply(.page(page, bars: bars))
        } catch {
            let message = "\(name): history page from \(RFC3339.format(milliseconds: page.startTime)): \(error)"
            if message != lastFailure {
                log.warning(
                    "market data: ingest failed",
                    metadata: [
                        "market": "\(id)", "interval": "\(interval)", "exchange": "\(market.source)",
                        "what": "history page from \(RFC3339.format(milliseconds: page.startTime))", "error": "\(error)",
                    ])
            }
            lastFailure = message
            if case .circuitOpen(_, let retryIn)? = error as? HistoryError {
                // Nothing was sent: ask again when the cool-down ends (the first asker probes), or
                // shortly while another market's probe runs; the feed's own backoff is untouched.
                pendingFetch = (page, now() + (retryIn ?? Self.probeWait))
                return
            }
            apply(.pageFailed(page))
        }
    }

    /// Seconds before asking again while another market's call probes the exchange's circuit.
    private static let probeWait = 1.0

    private func append(_ bars: [MarketFeed.Appended]) {
        let historyTimes = Set(bars.filter(\.backfill).map(\.kline.openTime))
        do {
            let result = try context.appender.append(
                bars.map(\.kline.bar), market: id, symbol: market.symbol.symbol, interval: interval,
                backfill: { bar in historyTimes.contains(bar.time) }, nowMillis: Int64(context.clock.read().wall * 1000),
                on: connection())
            let appended = result.appended
            context.metrics.bars(market: id, interval: interval, count: appended)
            if let newest = bars.last, !newest.backfill {
                let closedAt = market.interval.closeTime(ofBarOpeningAt: newest.kline.openTime)
                context.metrics.lag(market: id, interval: interval, seconds: max(0, seconds(untilWall: closedAt) * -1))
            }
            lastFailure = nil
            if result.lastOpenTime != bars.last?.kline.openTime {
                // Another writer got ahead of this feed (the stream holds newer bars): start
                // again from the stream.
                log.info(
                    "market data: \(name): the stream moved on to \(result.lastOpenTime.map { RFC3339.format(milliseconds: $0) } ?? "-"); resuming from it"
                )
                stopFeed()
            }
        } catch {
            failed("appending bars", error)
        }
    }

    private func publish(_ status: MarketFeed.Status) {
        context.report(market, status)
        do {
            let key = MarketDataKeys.status(prefix: context.settings.prefix, market: id, interval: interval)
            _ = try connection().pipeline([
                [
                    "HSET", key, "exchange", market.source.description, "symbol", market.symbol.display,
                    "status", status.rawValue, "updated_at", String(Int64(context.clock.read().wall * 1000)),
                    "gateway", context.settings.gatewayID,
                ],
                ["PEXPIRE", key, String(context.settings.leaseMs)],
            ])
        } catch {
            failed("writing the status", error)
        }
    }

    private func alert(_ code: String, _ message: String, value: Double, details: JSONObject) {
        do {
            _ = try context.ledger.run(
                "market_data_alert",
                [
                    "action": .string(code), "market": .string(id), "interval": .string(interval),
                    "exchange": .string(market.source.description), "message": .string(message),
                    "value": .number(value), "limit": .number(0), "details": .object(details),
                ], on: connection())
            log.warning(
                "market data: alert",
                metadata: [
                    "market": "\(id)", "interval": "\(interval)", "exchange": "\(market.source)", "what": "\(code)",
                    "error": "\(message)",
                ])
        } catch {
            failed("raising \(code)", error)
        }
    }
}
