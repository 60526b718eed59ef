import Exchanges
import GatewayCore
import JSONCodec
import Logging
import MarketDataCore
import RedisClient

/// The exchange side of the ingest: one paced REST client per exchange (shared by its markets'
/// workers, so their calls together stay under the exchange's limit) and one live stream hub for
/// every exchange market, whose events go to the workers' inboxes.
final class ExchangeFeeds: Sendable {
    private let clients: [Exchange: HistoryClient]
    private let hub: KlineStreamHub
    private let subscriptions: [KlineSubscription]
    private let inboxes: [String: MarketInbox]
    private let metrics: MarketDataMetrics
    private let log = Logger(label: "bedrock.market_data")

    /// The clients and hub for the exchange markets among `markets`; each exchange's REST calls
    /// go through its circuit in `circuits`; `banned` raises `EXCHANGE_BANNED` (from the worker
    /// thread whose call was refused).
    init(
        markets: [ConfiguredMarket], endpoints: [Exchange: ExchangeEndpoints], inboxes: [String: MarketInbox],
        metrics: MarketDataMetrics, circuits: DependencyCircuits?, clock: any GatewayClock,
        banned: @escaping @Sendable (Exchange, Double) -> Void
    ) {
        var clients: [Exchange: HistoryClient] = [:]
        var subscriptions: [KlineSubscription] = []
        let log = log
        for market in markets {
            guard case .exchange(let exchange) = market.source, let urls = endpoints[exchange] else { continue }
            if clients[exchange] == nil {
                clients[exchange] = HistoryClient(
                    exchange: exchange, endpoints: urls, pacer: SharedRequestPacer(exchange: exchange), clock: clock,
                    circuit: circuits?[exchange.rawValue],
                    observer: { event in
                        switch event {
                        case .request(let exchange, let status):
                            metrics.request(exchange: exchange.rawValue, status: status.rawValue)
                        case .rateLimited(let exchange, let wait):
                            log.warning(
                                "market data: rate limit reached; nothing is sent meanwhile",
                                metadata: [
                                    "exchange": "\(exchange)", "what": "rest", "error": "rate limited",
                                    "wait_s": "\(Int(wait.rounded(.up)))",
                                ])
                        case .banned(let exchange, let wait):
                            log.error(
                                "market data: the exchange banned this IP; nothing is sent meanwhile",
                                metadata: [
                                    "exchange": "\(exchange)", "what": "rest", "error": "banned",
                                    "wait_s": "\(Int(wait.rounded(.up)))",
                                ])
                            banned(exchange, wait)
                        case .rejected(_, _, _, let reason, _):
                            metrics.rejected(reason.rawValue)
                        }
                    })
            }
            subscriptions.append(
                KlineSubscription(exchange: exchange, endpoints: urls, symbol: market.symbol, interval: market.interval))
        }
        self.clients = clients
        self.subscriptions = subscriptions
        self.inboxes = inboxes
        self.metrics = metrics
        hub = KlineStreamHub(clock: clock)
    }

    /// The REST history of `market` (nil for a sample market).
    func history(of market: ConfiguredMarket) -> (any MarketHistoryPages)? {
        guard case .exchange(let exchange) = market.source, let client = clients[exchange] else { return nil }
        return ExchangeMarketHistory(client: client, market: market)
    }

    /// Connects the live streams (nothing when no exchange market is configured).
    func start() throws {
        guard !subscriptions.isEmpty else { return }
        let inboxes = inboxes, metrics = metrics, log = log
        try hub.start(subscriptions) { event in
            func post(_ s: KlineSubscription, _ input: MarketFeed.Input) {
                inboxes["klines:\(s.symbol.id):\(s.interval.rawValue)"]?.post(.feed(input))
            }
            switch event {
            case .connected(let s):
                post(s, .streamConnected)
            case .disconnected(let s, let reason):
                log.info(
                    "market data: stream down",
                    metadata: [
                        "market": "\(s.symbol.id)", "interval": "\(s.interval.rawValue)", "exchange": "\(s.exchange)",
                        "what": "stream", "error": "\(reason)",
                    ])
                post(s, .streamDisconnected)
            case .closedBar(let s, let kline, _):
                post(s, .liveBar(kline))
            case .rejected(_, let reason, _):
                metrics.rejected(reason.rawValue)
            case .subscribeFailed(let s, let reason):
                log.error(
                    "market data: the exchange refused the stream",
                    metadata: [
                        "market": "\(s.symbol.id)", "interval": "\(s.interval.rawValue)", "exchange": "\(s.exchange)",
                        "what": "subscribe", "error": "\(reason)",
                    ])
            case .reconnecting(let exchange, _, let after, let reason):
                metrics.reconnected(exchange: exchange.rawValue)
                log.info(
                    "market data: stream reconnects",
                    metadata: [
                        "exchange": "\(exchange)", "what": "stream", "error": "\(reason)",
                        "retry_s": "\(String(format: "%.1f", after))",
                    ])
            }
        }
    }

    /// Drops the live streams and ends every REST wait (shutdown).
    func stop() {
        hub.stop()
        for client in clients.values { client.cancel() }
    }
}

/// One exchange market's REST history, as its worker asks for it.
final class ExchangeMarketHistory: MarketHistoryPages {
    private let client: HistoryClient
    private let market: ConfiguredMarket

    init(client: HistoryClient, market: ConfiguredMarket) {
        self.client = client
        self.market = market
    }

    func page(_ page: BackfillCursor.Page) throws -> [ExchangeKline] {
        try client.page(
            symbol: market.symbol, interval: market.interval, startTime: page.startTime, endTime: page.endTime,
            limit: page.limit)
    }

    func cancel() { client.cancel() }
}
