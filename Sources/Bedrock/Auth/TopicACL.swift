import JWTAuth
import MarketDataCore

/// A subscribable topic (SPEC §5–§7).
///
/// Accepted names (case-sensitive, except the market):
/// - `signals`, `portfolio`, `risk`, `opportunities`, `models`, `news`
/// - `user`: the events addressed to the subscriber's own `sub` (SPEC §14), on every gateway
/// - `klines:{MARKET}:{INTERVAL}` where
///   - MARKET is any spelling the market rule accepts (`MarketName`: `BTCUSDT`, `BTC/USDT`,
///     `btc-usdt`, `BTC_USDT`), held as its canonical id: `klines:btc-usdt:1h` *is*
///     `klines:BTCUSDT:1h`, the one stream of that market;
///   - INTERVAL is one of the Binance kline intervals `1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M`.
///
/// Anything else (empty, extra `:` parts, spaces, unknown names) is invalid and parses to `nil`.
/// The canonical name (`name`) is also the suffix of its Redis stream key: `<prefix>stream:<name>`.
public enum Topic: Sendable, Hashable, CustomStringConvertible {
    case signals
    case portfolio
    case risk
    case opportunities
    /// The model registry's events (`model.trained`, `model.deployed`).
    case models
    /// Market news (`news.published`), the LLM's sentiment input.
    case news
    /// The caller's personal topic: events addressed to its own `sub`.
    case user
    case klines(market: String, interval: String)

    /// The kline intervals accepted in `klines:{MARKET}:{INTERVAL}`: those of `KlineInterval`.
    public static let klineIntervals: Set<String> = Set(KlineInterval.allCases.map(\.rawValue))

    /// Parses and validates a topic name; `nil` when it is not one of the accepted forms.
    public init?(_ name: String) {
        switch name {
        case "signals": self = .signals
        case "portfolio": self = .portfolio
        case "risk": self = .risk
        case "opportunities": self = .opportunities
        case "models": self = .models
        case "news": self = .news
        case "user": self = .user
        default:
            guard name.hasPrefix("klines:") else { return nil }
            let parts = name.utf8.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            guard parts.count == 3,
                let spelling = String(parts[1]), let market = MarketName.canonical(spelling),
                let interval = String(parts[2]), Topic.klineIntervals.contains(interval)
            else { return nil }
            self = .klines(market: market, interval: interval)
        }
    }

    /// The canonical wire name, e.g. `klines:BTCUSDT:1m` (also for `klines:btc/usdt:1m`).
    public var name: String {
        switch self {
        case .signals: return "signals"
        case .portfolio: return "portfolio"
        case .risk: return "risk"
        case .opportunities: return "opportunities"
        case .models: return "models"
        case .news: return "news"
        case .user: return "user"
        case let .klines(market, interval): return "klines:\(market):\(interval)"
        }
    }

    public var description: String { name }

    /// The least role that may subscribe to this topic (SPEC §6).
    public var leastRole: Role {
        switch self {
        case .signals, .opportunities, .models, .news, .user, .klines: return .viewer
        case .portfolio, .risk: return .trader
        }
    }
}

/// Topic access by role (SPEC §6): VIEWER may subscribe `signals`, `opportunities`, `models`, `news`,
/// `user` (its own), `klines:*`;
/// TRADER also `portfolio` and `risk`; ADMIN everything.
public enum TopicACL {
    /// True when `role` may subscribe to `topic`.
    public static func canSubscribe(role: Role, topic: Topic) -> Bool {
        role.satisfies(topic.leastRole)
    }
}

/// Free-function form of `TopicACL.canSubscribe(role:topic:)`.
public func canSubscribe(role: Role, topic: Topic) -> Bool {
    TopicACL.canSubscribe(role: role, topic: topic)
}
