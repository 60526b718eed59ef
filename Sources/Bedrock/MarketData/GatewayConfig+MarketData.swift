import Exchanges
import JSONCodec
import MarketDataCore

extension GatewayConfig {
    /// Where a configured market's bars come from: an exchange, or the built-in synthetic `sample`.
    public enum MarketSource: Sendable, Hashable, CustomStringConvertible {
        /// Binance spot or Bybit v5 spot.
        case exchange(Exchange)
        /// The deterministic, clearly synthetic market of `bedrock sample-data`, produced in-process.
        case sample

        /// The configuration name (`binance`, `bybit`, `sample`).
        public var description: String {
            switch self {
            case .exchange(let e): return e.rawValue
            case .sample: return "sample"
            }
        }

        /// Every name a market may use.
        static let names = Exchange.allCases.map(\.rawValue) + ["sample"]

        init?(name: String) {
            if name == "sample" {
                self = .sample
            } else if let e = Exchange(rawValue: name) {
                self = .exchange(e)
            } else {
                return nil
            }
        }
    }

    /// One configured market (`market_data.markets[]`).
    public struct ConfiguredMarket: Sendable, Hashable {
        /// Its source.
        public var source: MarketSource
        /// The market as configured, normalised (`id` is the canonical `BTCUSDT`).
        public var symbol: MarketSymbol
        /// Its interval.
        public var interval: KlineInterval

        /// `klines:{ID}:{INTERVAL}`.
        public var topic: String { "klines:\(symbol.id):\(interval.rawValue)" }
    }

    /// `market_data.*` and `exchanges.*`: live market data (SPEC §10, docs/MARKET_DATA.md).
    public struct MarketData: Sendable, Equatable {
        /// `market_data.markets`, default none: markets ingested by `serve` (env
        /// `BEDROCK_MARKET_DATA_MARKETS=binance:BTC/USDT:1h,...`; empty turns ingest off).
        public var markets: [ConfiguredMarket] = []
        /// `market_data.backfill_bars`, default 1000: bars fetched when a market's stream is empty.
        public var backfillBars = 1000
        /// `market_data.retain_bars`, default 100000: entries a kline stream keeps.
        public var retainBars = 100_000
        /// `market_data.stale_after_intervals`, default 2: intervals past due before a market with
        /// no closed bar is stale.
        public var staleAfterIntervals = 2
        /// `market_data.sample_bar_s`, default 5: seconds between two bars of the `sample` exchange.
        public var sampleBarS: Double = 5
        /// `market_data.lease_ms`, default 15000: one gateway at a time ingests a market; its lease
        /// is renewed every third of this, and a stopped gateway's markets move after it.
        public var leaseMs = 15_000
        /// `exchanges.<name>.rest_url` / `ws_url`, default the production endpoints.
        public var endpoints: [Exchange: ExchangeEndpoints] = Dictionary(
            uniqueKeysWithValues: Exchange.allCases.map { ($0, ExchangeEndpoints.production($0)) })

        public init() {}

        /// Reads and validates `market_data.*` and `exchanges.*`.
        static func load(_ raw: RawConfig) throws(ConfigError) -> MarketData {
            var m = MarketData()
            m.backfillBars = try raw.int("market_data.backfill_bars", default: m.backfillBars, 0...1_000_000)
            m.retainBars = try raw.int("market_data.retain_bars", default: m.retainBars, 100...100_000_000)
            m.staleAfterIntervals = try raw.int(
                "market_data.stale_after_intervals", default: m.staleAfterIntervals, 1...10_000)
            m.sampleBarS = try raw.double("market_data.sample_bar_s", default: m.sampleBarS, 0.01...86_400)
            m.leaseMs = try raw.int("market_data.lease_ms", default: m.leaseMs, 1_000...600_000)
            for exchange in Exchange.allCases {
                var e = m.endpoints[exchange]!
                e.restURL = try url(raw, "exchanges.\(exchange.rawValue).rest_url", default: e.restURL, ["http://", "https://"])
                e.wsURL = try url(raw, "exchanges.\(exchange.rawValue).ws_url", default: e.wsURL, ["ws://", "wss://"])
                m.endpoints[exchange] = ExchangeEndpoints(restURL: e.restURL, wsURL: e.wsURL)
            }
            m.markets = try markets(raw)
            return m
        }

        private static func url(_ raw: RawConfig, _ key: String, default d: String, _ schemes: [String]) throws(ConfigError)
            -> String
        {
            let s = try raw.string(key, default: d)
            guard schemes.contains(where: { s.hasPrefix($0) && s.count > $0.count }), !s.contains(where: \.isWhitespace) else {
                throw ConfigError(
                    key: key, message: "must be a \(schemes.joined(separator: " or ")) URL, got \"\(s)\"",
                    source: raw.source(of: key))
            }
            return s
        }

        private static let marketsKey = "market_data.markets"

        private static func markets(_ raw: RawConfig) throws(ConfigError) -> [ConfiguredMarket] {
            guard let (value, source) = raw.values[marketsKey], !value.isNull else { return [] }
            func fail(_ message: String) -> ConfigError { ConfigError(key: marketsKey, message: message, source: source) }
            var entries: [(exchange: String, symbol: String, interval: String)] = []
            if let text = value.stringValue {
                for item in text.split(separator: ",") {
                    let spec = item.trimmingCharacters(in: .whitespaces)
                    if spec.isEmpty { continue }
                    let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                    guard parts.count == 3 else {
                        throw fail("\"\(spec)\" is not exchange:symbol:interval (e.g. binance:BTC/USDT:1h)")
                    }
                    entries.append((parts[0], parts[1], parts[2]))
                }
            } else if let array = value.arrayValue {
                for item in array {
                    guard let o = item.objectValue, let e = o["exchange"]?.stringValue, let s = o["symbol"]?.stringValue,
                        let i = o["interval"]?.stringValue, o.count == 3
                    else {
                        throw fail(
                            "each market must be {\"exchange\",\"symbol\",\"interval\"} (strings, nothing else), got \(RawConfig.render(item))"
                        )
                    }
                    entries.append((e, s, i))
                }
            } else {
                throw fail("must be an array of {\"exchange\",\"symbol\",\"interval\"}, got \(RawConfig.render(value))")
            }
            var out: [ConfiguredMarket] = []
            var sourceByID: [String: MarketSource] = [:]
            for entry in entries {
                guard let market = MarketSource(name: entry.exchange) else {
                    throw fail("unknown exchange \"\(entry.exchange)\" (known: \(MarketSource.names.joined(separator: ", ")))")
                }
                guard let symbol = MarketSymbol(entry.symbol) else {
                    throw fail("bad symbol \"\(entry.symbol)\": \(MarketSymbol.rule)")
                }
                guard let interval = KlineInterval(rawValue: entry.interval) else {
                    let known = KlineInterval.allCases.map(\.rawValue).joined(separator: " ")
                    throw fail("unknown interval \"\(entry.interval)\" (known: \(known))")
                }
                switch market {
                case .exchange(let exchange):
                    do { _ = try exchange.wireInterval(interval) } catch { throw fail(error.description) }
                case .sample:
                    guard interval.fixedMillis != nil else {
                        throw fail("the sample exchange has no \(interval.rawValue) bars (fixed-length intervals only)")
                    }
                }
                if let other = sourceByID[symbol.id], other != market {
                    throw fail("\(symbol.display) is fed by both \(other) and \(market): one source per market")
                }
                sourceByID[symbol.id] = market
                let configured = ConfiguredMarket(source: market, symbol: symbol, interval: interval)
                guard !out.contains(where: { $0.symbol.id == symbol.id && $0.interval == interval }) else {
                    throw fail("\(symbol.display) \(interval.rawValue) is listed twice")
                }
                out.append(configured)
            }
            return out
        }
    }
}
