import ArgumentParser
import Bedrock
import Foundation
import RedisClient
import TradingCore

/// `bedrock replay --data F --market M --interval I [--speed X] [--fast-first N]
/// [--redis URL|embedded] [--from-start]` (SPEC §2, §7, §10): publishes each bar of a market-data
/// file as a `kline.closed` event to `<prefix>stream:klines:{M}:{I}` (capped at
/// `redis.stream_maxlen`, approximately).
///
/// `--fast-first N`: the file's first N bars are history — published at once (no pacing) and
/// flagged `"backfill": true`, so the live engine warms its strategies up on them without trading
/// (unless `engine.trade_history`) — then the rest at `--speed`, unflagged, as a live feed.
///
/// Resumable: bars whose open time is not after the stream's last `kline.closed` event are
/// skipped (and counted), so running the same file again publishes only what is new;
/// `--from-start` publishes everything. Bad arguments exit 2; file, configuration and Redis
/// problems exit 1. Progress goes to stderr at most once a second; the summary to stdout.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Publish the bars of a market-data file as kline.closed events, paced and resumable.")

    @OptionGroup var configOptions: ConfigOptions

    @Option(help: "Market-data file (CSV or Binance kline dump, SPEC §9).")
    var data: String?

    @Option(help: "Market, e.g. BTCUSDT, BTC/USDT, btc-usdt or BTC_USDT (published as its canonical id, BTCUSDT).")
    var market: String?

    @Option(help: "Kline interval, e.g. 1h (1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M).")
    var interval: String?

    @Option(help: "Bars per second; 0 publishes as fast as possible (default 1).")
    var speed: String?

    @Option(
        help: "Redis: embedded (the running gateway's <data_dir>/redis.sock), redis://... or unix:///path (overrides redis.url).")
    var redis: String?

    @Option(
        name: .customLong("fast-first"), parsing: .unconditional,  // so `-1` reaches the check, not the parser
        help: ArgumentHelp(
            "History first: publish the file's first N bars at once, flagged \"backfill\": true, then the rest at --speed.",
            discussion:
                "The live engine learns from flagged bars (indicators warm up) but trades none of them "
                + "unless engine.trade_history is true; its first trades happen on the unflagged bars.",
            valueName: "N"))
    var fastFirst: String?

    @Flag(name: .customLong("from-start"), help: "Publish every bar, ignoring what the stream already holds.")
    var fromStart = false

    func run() throws {
        let (path, market, interval, speed, history) = try validatedArguments()
        let config: GatewayConfig
        do {
            var overrides: [(key: String, value: String, flag: String)] = []
            if let redis { overrides.append(("redis.url", redis, "--redis")) }
            config = try GatewayConfig.load(
                .init(
                    configFile: configOptions.configFile, dataDir: configOptions.dataDir,
                    overrides: overrides, resolveSecret: false))
        } catch {
            throw Self.failure("\(error)")
        }
        let series: BarSeries
        do { series = try MarketData.load(path: path) } catch { throw Self.failure("\(error)") }

        // A Redis that goes away mid-write must give an error line and exit 1, not a silent SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let connection = try connect(config)
        let replay = KlineReplay(
            connection: connection, market: market, interval: interval,
            prefix: config.redis.prefix, maxLength: config.redis.streamMaxlen)
        var start = 0
        if !fromStart {
            let last: KlineReplay.LastEntry
            do { last = try replay.lastEntry() } catch { throw Self.failure("reading \(replay.streamKey): \(error)") }
            switch last {
            case .none: break
            case let .bar(_, openTime):
                start = KlineReplay.firstIndex(after: openTime, in: series)
                if start > 0 {
                    Self.stderr(
                        "bedrock replay: skipped \(start) bar(s) already in \(replay.streamKey) "
                            + "(last open_time \(RFC3339.format(milliseconds: openTime))); --from-start republishes them")
                }
            case let .unreadable(id):
                throw Self.failure(
                    "the last entry of \(replay.streamKey) (\(id)) is not a kline.closed event with an "
                        + "open_time, so where to resume is unknown; pass --from-start to publish every bar")
            }
        }

        let total = series.count - start
        let began = Date()
        var lastReport = began
        let published: Int
        // History first: bars with a file index below --fast-first go out at full speed, flagged.
        let fastEnd = Swift.max(start, Swift.min(history, series.count))
        var done = 0
        let report: (Int) -> Void = { sent in
            let now = Date()
            guard now.timeIntervalSince(lastReport) >= 1, done + sent < total else { return }
            lastReport = now
            let rate = Double(done + sent) / Swift.max(now.timeIntervalSince(began), 1e-9)
            Self.stderr(
                "bedrock replay: \(market) \(interval): \(done + sent)/\(total) published, "
                    + String(format: "%.1f bars/s", rate))
        }
        do {
            if fastEnd > start {
                done = try replay.publish(
                    series.slice(0..<fastEnd), from: start, speed: 0, backfill: true, progress: report)
            }
            published = done + (try replay.publish(series, from: fastEnd, speed: speed, progress: report))
        } catch {
            throw Self.failure("publishing to \(replay.streamKey): \(error)")
        }
        let seconds = Date().timeIntervalSince(began)
        let rate = published == 0 ? 0 : Double(published) / Swift.max(seconds, 1e-9)
        FileHandle.standardOutput.write(
            Data(
                ("published \(published) bar(s)" + (done > 0 ? " (the first \(done) flagged as history)" : "")
                    + ", skipped \(start), to \(replay.streamKey) in "
                    + String(format: "%.2f s (%.1f bars/s)", seconds, rate) + "\n").utf8))
    }

    /// The checked arguments, or exit 2 with the rule that was broken.
    private func validatedArguments() throws -> (String, String, String, Double, Int) {
        guard let data, !data.isEmpty else { throw Self.usage("--data is required (a CSV or Binance kline file)") }
        guard let market else { throw Self.usage("--market is required, e.g. --market BTCUSDT") }
        guard let canonical = MarketName.canonical(market) else {
            throw Self.usage("--market '\(market)' is invalid: use \(MarketName.rule)")
        }
        let intervals = Topic.klineIntervals.sorted { Self.intervalOrder($0) < Self.intervalOrder($1) }
        guard let interval, Topic.klineIntervals.contains(interval) else {
            throw Self.usage(
                "--interval must be one of \(intervals.joined(separator: " "))"
                    + (interval.map { ", got '\($0)'" } ?? ""))
        }
        var history = 0
        if let fastFirst {
            // Digits only: no sign, no fraction, no exponent; a count too large for Int is refused too.
            guard !fastFirst.isEmpty, fastFirst.allSatisfy({ ("0"..."9").contains($0) }), let n = Int(fastFirst)
            else {
                throw Self.usage(
                    "--fast-first must be a whole number of bars ≥ 0 (the file's first N bars, published as history), got '\(fastFirst)'"
                )
            }
            history = n
        }
        var rate = 1.0
        if let speed {
            guard let value = Double(speed), value.isFinite, value >= 0 else {
                throw Self.usage("--speed must be a number of bars per second ≥ 0 (0: as fast as possible), got '\(speed)'")
            }
            rate = value
        }
        if let redis, case let .failure(error) = RedisEndpoint.parse(redis) {
            throw Self.usage("--redis '\(redis)': \(error.message)")
        }
        return (data, canonical, interval, rate, history)
    }

    /// Connects to the configured Redis; `embedded` means the socket of a running gateway.
    private func connect(_ config: GatewayConfig) throws -> RedisConnection {
        try RedisCLIConnection.connect(config, failure: Self.failure)
    }

    /// Seconds per unit, to list intervals from shortest to longest.
    private static func intervalOrder(_ interval: String) -> Double {
        let unit: Double
        switch interval.last {
        case "m": unit = 60
        case "h": unit = 3600
        case "d": unit = 86_400
        case "w": unit = 604_800
        default: unit = 2_592_000  // "M": a month
        }
        return (Double(interval.dropLast()) ?? 1) * unit
    }

    private static func stderr(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// One line on stderr, exit 2.
    private static func usage(_ message: String) -> ExitCode {
        stderr("bedrock replay: \(message)")
        return ExitCode(2)
    }

    /// One line on stderr, exit 1.
    private static func failure(_ message: String) -> ExitCode {
        stderr("bedrock replay: \(message)")
        return ExitCode(1)
    }
}
