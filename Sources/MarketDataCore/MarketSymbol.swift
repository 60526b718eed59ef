/// A market as the user names it, normalised (SPEC §10): `BTC/USDT`, `BTCUSDT`, `btc-usdt` and
/// `BTC_USDT` are the same market, whose canonical id `BTCUSDT` (upper case, separators removed)
/// names it in events, topics and Redis keys.
///
/// Accepted spellings: 1–32 bytes of `A-Z a-z 0-9` with at most one separator (`/`, `-` or `_`)
/// between two non-empty parts. This is the one market rule of the gateway: `MarketName` (method
/// parameters, topics, CLI, config) applies it. With a separator, the base and quote are known
/// and `symbol` is `BASE/QUOTE`; without one (`BTCUSDT`) they are not.
public struct MarketSymbol: Sendable, Hashable, CustomStringConvertible {
    /// Longest accepted spelling, in bytes (the market-name rule's limit).
    public static let maxLength = 32

    /// The rule in words, for messages.
    public static let rule =
        "1-\(maxLength) letters and digits with at most one separator (/ - _) between two parts, e.g. BTC/USDT or BTCUSDT"

    /// Canonical id: upper case, separators removed (`BTCUSDT`).
    public let id: String
    /// Base asset (`BTC`) when the spelling had a separator, else nil.
    public let base: String?
    /// Quote asset (`USDT`) when the spelling had a separator, else nil.
    public let quote: String?

    /// The display symbol `BASE/QUOTE` when base and quote are known, else nil.
    public var symbol: String? {
        guard let base, let quote else { return nil }
        return "\(base)/\(quote)"
    }

    /// `symbol` when known, else the canonical id: what a person reads.
    public var display: String { symbol ?? id }

    /// The display form (`display`).
    public var description: String { display }

    /// Normalises `spelling`; nil when it breaks the rule (`rule`).
    public init?(_ spelling: String) {
        let bytes = Array(spelling.utf8)
        guard !bytes.isEmpty, bytes.count <= Self.maxLength else { return nil }
        var separator: Int?
        var upper: [UInt8] = []
        upper.reserveCapacity(bytes.count)
        for (i, b) in bytes.enumerated() {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): upper.append(b)
            case UInt8(ascii: "a")...UInt8(ascii: "z"): upper.append(b - 32)
            case UInt8(ascii: "/"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                guard separator == nil, i > 0, i < bytes.count - 1 else { return nil }
                separator = upper.count
            default: return nil
            }
        }
        id = String(decoding: upper, as: UTF8.self)
        if let cut = separator {
            base = String(decoding: upper[..<cut], as: UTF8.self)
            quote = String(decoding: upper[cut...], as: UTF8.self)
        } else {
            base = nil
            quote = nil
        }
    }

    /// Two symbols name the same market when their canonical ids match (`BTC/USDT` and `BTCUSDT`).
    public func sameMarket(as other: MarketSymbol) -> Bool { id == other.id }
}
