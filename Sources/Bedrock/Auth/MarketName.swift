import MarketDataCore

/// The gateway's market-name rule, which is `MarketSymbol`'s (SPEC §10): one rule for every place
/// a market is accepted — method parameters (socket `params`, REST query and body), klines topic
/// names, CLI options and config.
///
/// - An accepted spelling is 1–32 bytes of `A-Z a-z 0-9` with at most one separator (`/`, `-` or
///   `_`) between two non-empty parts: `BTC/USDT`, `BTCUSDT`, `btc-usdt` and `BTC_USDT` all name
///   the market whose canonical id is `BTCUSDT` (upper case, separators removed). Spaces, control
///   characters (CR, LF), `:`, `*`, two separators, a separator at either end and anything longer
///   are refused.
/// - The canonical id is what events, topics, Redis keys and ledger records carry: every accepted
///   spelling is turned into it at the edge (`canonical`), so any spelling finds the same record.
public enum MarketName {
    /// Longest accepted spelling, in bytes.
    public static let maxLength = MarketSymbol.maxLength

    /// The rule in words, for messages.
    public static let rule = MarketSymbol.rule

    /// True when `name` is an accepted spelling of a market.
    public static func isValid(_ name: String) -> Bool {
        MarketSymbol(name) != nil
    }

    /// The canonical id of `name` (`btc-usdt` → `BTCUSDT`), or nil when `name` breaks the rule.
    public static func canonical(_ name: String) -> String? {
        MarketSymbol(name)?.id
    }

    /// True when `name` is already a canonical id (`BTCUSDT`): the spelling topics and Redis keys use.
    public static func isCanonical(_ name: String) -> Bool {
        canonical(name) == name
    }
}
