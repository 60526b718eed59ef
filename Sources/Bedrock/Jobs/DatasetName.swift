/// What a dataset's file name tells (`BTCUSDT-1h.csv`, `eth_usdt_15m.csv`): a market and an
/// interval, each nil when the name does not say.
struct DatasetName {
    /// Quote assets recognised at the end of a market token.
    static let quotes = ["USDT", "USDC", "FDUSD", "BUSD", "TUSD", "USD", "EUR", "BTC", "ETH", "BNB"]

    let market: String?
    let interval: String?

    init(_ name: String) {
        var stem = Substring(name)
        if let dot = stem.lastIndex(of: "."), dot != stem.startIndex { stem = stem[..<dot] }
        let tokens = stem.split(whereSeparator: { "-_. ".contains($0) }).map(String.init)
        interval = tokens.first(where: Topic.klineIntervals.contains)
        let upper = tokens.map { Self.isAlphanumeric($0) && $0.first!.isLetter ? $0.uppercased() : "" }
        let isQuote = { (t: String) in Self.quotes.contains(t) }
        // One token (`BTCUSDT`), else the last pair of a base and a quote token (`btc_usdt`).
        var market = upper.first { t in !t.isEmpty && Self.quotes.contains { t.hasSuffix($0) && t.count > $0.count } }
        if market == nil, upper.count > 1 {
            market = (1..<upper.count).reversed().first { !upper[$0 - 1].isEmpty && isQuote(upper[$0]) }
                .map { upper[$0 - 1] + upper[$0] }
        }
        self.market = market.flatMap { MarketName.isCanonical($0) ? $0 : nil }
    }

    private static func isAlphanumeric(_ s: String) -> Bool {
        !s.isEmpty
            && s.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }
}
