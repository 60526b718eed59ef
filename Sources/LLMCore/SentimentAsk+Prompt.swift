extension SentimentAsk {
    /// The values of the sentiment template (`market`, `price`, `headlines`), all from Bedrock.
    /// `priceText` is the price as the gateway formats it; without one, the ask's own price, or
    /// "unknown". Headlines are one line each, `- title (source)`, oldest first, with any line
    /// break inside a title or source turned into a space so a headline cannot forge prompt lines.
    public func promptValues(priceText: String? = nil) -> [String: String] {
        let lines = headlines.map { "- " + Self.oneLine($0.title) + " (" + Self.oneLine($0.source) + ")" }
        return [
            "market": market,
            "price": priceText ?? price.map { String($0) } ?? "unknown",
            "headlines": lines.joined(separator: "\n"),
        ]
    }

    static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
