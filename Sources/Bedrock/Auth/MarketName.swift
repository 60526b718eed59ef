/// The rule for market names, in one place (SPEC §10: `BTC/USDT`, `BTCUSDT`, `btc-usdt` and
/// `BTC_USDT` are all accepted spellings).
///
/// - A market name is 1–32 bytes of `A-Z a-z 0-9 / _ -`, starting with a letter or digit: what
///   every method's `market` parameter accepts (socket `params`, REST query and body alike).
///   Spaces, control characters (CR, LF), `:`, `*` and anything longer are refused.
/// - A market in a topic name `klines:{MARKET}:{INTERVAL}` (and so in a klines stream key, which
///   must have one spelling per market) is a market name without lower case letters or `/`.
public enum MarketName {
    /// Longest market name, in bytes.
    public static let maxLength = 32

    /// The rule in words, for messages.
    public static let rule =
        "1-\(maxLength) characters of A-Z a-z 0-9 / _ - starting with a letter or digit (e.g. BTCUSDT or BTC/USDT)"

    /// True when `name` follows the market-name rule.
    public static func isValid(_ name: String) -> Bool {
        scan(name, topic: false)
    }

    /// True when `name` may appear in a topic name (the rule, without lower case and `/`).
    public static func isTopicSpelling(_ name: String) -> Bool {
        scan(name, topic: true)
    }

    private static func scan(_ name: String, topic: Bool) -> Bool {
        let bytes = name.utf8
        guard !bytes.isEmpty, bytes.count <= maxLength else { return false }
        for (i, b) in bytes.enumerated() {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): continue
            case UInt8(ascii: "a")...UInt8(ascii: "z") where !topic: continue
            case UInt8(ascii: "_"), UInt8(ascii: "-"): if i == 0 { return false }
            case UInt8(ascii: "/") where !topic: if i == 0 { return false }
            default: return false
            }
        }
        return true
    }
}
