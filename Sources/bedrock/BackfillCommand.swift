import ArgumentParser
import Bedrock
import Exchanges
import Foundation
import MarketDataCore
import RedisClient
import TradingCore

/// `bedrock backfill --exchange binance|bybit --market M --interval I --from DATE [--to DATE]
/// (--out FILE.csv | --redis URL|embedded) [--rest-url URL] [--retain-bars N]` (SPEC §10): pages
/// through an exchange's kline history over REST at the exchange's allowed pace and writes the
/// closed bars to a CSV of SPEC §9 (loadable by `bedrock backtest`) or appends them to the
/// market's klines stream. Resumable and idempotent either way: a second run continues after the
/// last bar written and never writes one twice.
///
/// Bad arguments (and a symbol the exchange does not list) exit 2; exchange, file and Redis
/// failures exit 1. Progress goes to stderr at most once a second; the summary to stdout.
struct BackfillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Download an exchange's kline history to a CSV file or a klines stream, paced and resumable.")

    @OptionGroup var configOptions: ConfigOptions

    @Option(help: "Exchange: binance or bybit.")
    var exchange: String?

    @Option(help: "Market in any spelling: BTC/USDT, BTCUSDT, btc-usdt, BTC_USDT.")
    var market: String?

    @Option(help: "Kline interval, e.g. 1m or 1h (1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M; Bybit has no 8h or 3d).")
    var interval: String?

    @Option(help: "First bar: RFC 3339 (2024-01-01T00:00:00Z), a date (2024-01-01, UTC) or epoch milliseconds.")
    var from: String?

    @Option(help: "Stop before this time (same forms as --from); default: up to the bar forming now.")
    var to: String?

    @Option(help: "Write a CSV file (SPEC §9); an existing one is continued after its last row.")
    var out: String?

    @Option(
        help:
            "Append to the klines stream in Redis: embedded (the running gateway's <data_dir>/redis.sock), redis://... or unix:///path."
    )
    var redis: String?

    @Option(
        name: .customLong("rest-url"),
        help: "The exchange's REST base URL (default: BEDROCK_EXCHANGES_<NAME>_REST_URL, else the production API).")
    var restURL: String?

    @Option(
        name: .customLong("retain-bars"),
        help: "With --redis: cap of the klines stream, approximate (default: the config's market_data.retain_bars, 100000).")
    var retainBars: String?

    func run() throws {
        let arguments = try validatedArguments()
        // A Redis that goes away mid-write must give an error line and exit 1, not a silent SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let reporter = BackfillReporter(exchange: arguments.exchange)
        let client = HistoryClient(
            exchange: arguments.exchange, endpoints: arguments.endpoints, pacer: SharedRequestPacer(exchange: arguments.exchange),
            clock: SystemClock(), observer: reporter.observe)
        let backfill = HistoryBackfill(
            client: client, symbol: arguments.symbol, interval: arguments.interval, from: arguments.from, to: arguments.to)
        if let out {
            var file: CSVBackfillFile
            do { file = try CSVBackfillFile(path: out) } catch { throw Self.failure("\(error)") }
            if file.repairedBytes > 0 {
                Self.stderr("cut a partial last line (\(file.repairedBytes) bytes) of \(out) left by an interrupted run")
            }
            try run(backfill, into: &file, reporter: reporter)
        } else {
            let config: GatewayConfig
            do {
                config = try GatewayConfig.load(
                    .init(
                        configFile: configOptions.configFile, dataDir: configOptions.dataDir,
                        overrides: [("redis.url", redis ?? "embedded", "--redis")], resolveSecret: false))
            } catch {
                throw Self.failure("\(error)")
            }
            let connection = try RedisCLIConnection.connect(config, failure: Self.failure)
            let appender: KlineAppender
            let retain = arguments.retainBars ?? config.marketData.retainBars
            do { appender = try KlineAppender(prefix: config.redis.prefix, retainBars: retain) } catch {
                throw Self.failure("\(error)")
            }
            var sink = StreamBackfillSink(
                appender: appender, market: arguments.symbol.id, symbol: arguments.symbol.symbol,
                interval: arguments.interval.rawValue, connection: connection)
            try run(backfill, into: &sink, reporter: reporter)
        }
    }

    private func run<Sink: BackfillSink>(_ backfill: HistoryBackfill, into sink: inout Sink, reporter: BackfillReporter) throws {
        let began = Date()
        var lastReport = began
        let label = "\(backfill.client.exchange) \(backfill.symbol.id) \(backfill.interval)"
        let p: HistoryBackfill.Progress
        do {
            if let held = try sink.lastOpenTime() {
                Self.stderr(
                    "\(sink.destination) already holds bars up to \(RFC3339.format(milliseconds: held)); continuing after it")
            }
            p = try backfill.run(into: &sink, nowMillis: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))) {
                progress in
                let now = Date()
                guard now.timeIntervalSince(lastReport) >= 1 else { return }
                lastReport = now
                Self.stderr(
                    "\(label): \(progress.written) bars in \(progress.pages) pages, up to "
                        + (progress.reached.map { RFC3339.format(milliseconds: $0) } ?? "-")
                        + String(format: ", %.0f bars/s", Double(progress.written) / max(now.timeIntervalSince(began), 1e-9)))
            }
        } catch let error as HistoryError {
            switch error {
            case .unknownSymbol, .unsupportedInterval: throw Self.usage("\(error)")
            default: throw Self.failure("\(label): \(error)")
            }
        } catch {
            throw Self.failure("\(label): writing to \(sink.destination): \(error)")
        }
        let seconds = Date().timeIntervalSince(began)
        if let rejected = reporter.rejectedSummary { Self.stderr("rejected \(rejected)") }
        FileHandle.standardOutput.write(
            Data(
                ("wrote \(p.written) bar(s) of \(label) in \(p.pages) page(s) to \(sink.destination)"
                    + (p.reached.map { ", up to \(RFC3339.format(milliseconds: $0))" } ?? "")
                    + String(format: " in %.2f s (%.0f bars/s)\n", seconds, Double(p.written) / max(seconds, 1e-9))).utf8))
    }

    /// The checked arguments.
    private struct Arguments {
        var exchange: Exchange
        var symbol: MarketSymbol
        var interval: KlineInterval
        var from: Int64
        var to: Int64?
        var endpoints: ExchangeEndpoints
        var retainBars: Int?
    }

    /// The checked arguments, or exit 2 with the rule that was broken.
    private func validatedArguments() throws -> Arguments {
        let names = Exchange.allCases.map(\.rawValue).joined(separator: " or ")
        guard let exchange else { throw Self.usage("--exchange is required: \(names)") }
        guard let ex = Exchange(rawValue: exchange.lowercased()) else {
            throw Self.usage("--exchange '\(exchange)' is not supported: use \(names)")
        }
        guard let market else { throw Self.usage("--market is required, e.g. --market BTC/USDT") }
        guard let symbol = MarketSymbol(market) else {
            throw Self.usage("--market '\(market)' is invalid: use \(MarketSymbol.rule)")
        }
        let all = KlineInterval.allCases.map(\.rawValue).joined(separator: " ")
        guard let interval else { throw Self.usage("--interval is required, one of \(all)") }
        guard let kline = KlineInterval(rawValue: interval) else {
            throw Self.usage("--interval must be one of \(all), got '\(interval)'")
        }
        do { _ = try ex.wireInterval(kline) } catch { throw Self.usage("--interval: \(error)") }
        guard let from else { throw Self.usage("--from is required: a date (2024-01-01), RFC 3339 or epoch ms") }
        guard let start = Self.parseTime(from) else {
            throw Self.usage("--from '\(from)' is not a date (2024-01-01), an RFC 3339 time or epoch milliseconds")
        }
        var end: Int64?
        if let to {
            guard let t = Self.parseTime(to) else {
                throw Self.usage("--to '\(to)' is not a date (2024-01-01), an RFC 3339 time or epoch milliseconds")
            }
            guard t > start else { throw Self.usage("--to (\(to)) must be after --from (\(from))") }
            end = t
        }
        switch (out, redis) {
        case (nil, nil): throw Self.usage("give --out FILE.csv or --redis URL|embedded")
        case (.some, .some): throw Self.usage("give --out or --redis, not both")
        case (.some(let path), nil) where path.isEmpty: throw Self.usage("--out needs a file name")
        default: break
        }
        if let redis, case let .failure(error) = RedisEndpoint.parse(redis) {
            throw Self.usage("--redis '\(redis)': \(error.message)")
        }
        let env = ProcessInfo.processInfo.environment
        var endpoints = ExchangeEndpoints.production(ex)
        let envName = "BEDROCK_EXCHANGES_\(ex.rawValue.uppercased())_REST_URL"
        if let url = restURL ?? env[envName].flatMap({ $0.isEmpty ? nil : $0 }) {
            let lower = url.lowercased()
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
                throw Self.usage("\(restURL != nil ? "--rest-url" : envName) must be an http:// or https:// URL")
            }
            endpoints.restURL = ExchangeEndpoints(restURL: url, wsURL: endpoints.wsURL).restURL
        }
        var retain: Int?
        if let text = retainBars {
            guard let n = Int(text), n >= 1 else {
                throw Self.usage("--retain-bars must be a whole number of bars ≥ 1, got '\(text)'")
            }
            retain = n
        }
        return Arguments(
            exchange: ex, symbol: symbol, interval: kline, from: start, to: end, endpoints: endpoints, retainBars: retain)
    }

    /// Epoch ms of `text`: digits (epoch milliseconds), `YYYY-MM-DD` (midnight UTC) or RFC 3339.
    static func parseTime(_ text: String) -> Int64? {
        if !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            return text.utf8.count <= 15 ? Int64(text) : nil
        }
        if text.utf8.count == 10 { return KlineEvent.parseRFC3339(text + "T00:00:00Z") }
        return KlineEvent.parseRFC3339(text)
    }

    private static func stderr(_ line: String) {
        FileHandle.standardError.write(Data(("bedrock backfill: " + line + "\n").utf8))
    }

    /// One line on stderr, exit 2.
    private static func usage(_ message: String) -> ExitCode {
        stderr(message)
        return ExitCode(2)
    }

    /// One line on stderr, exit 1.
    private static func failure(_ message: String) -> ExitCode {
        stderr(message)
        return ExitCode(1)
    }
}
