import Transport

extension HTTPExchange {
    /// The credentials of an `Authorization: ApiKey <key>` header (scheme case-insensitive):
    /// nil when there is no such header or it names another scheme, "" when `ApiKey` has nothing
    /// after it.
    static func apiKey(_ wsi: WSI) -> String? {
        guard let value = wsi.header(.authorization) else { return nil }
        return apiKey(in: value)
    }

    /// The key of an `Authorization` value `ApiKey <key>`, as `apiKey(_:)` describes.
    static func apiKey(in value: String) -> String? {
        let trimmed = value.drop(while: { $0 == " " || $0 == "\t" })
        let scheme = trimmed.prefix(while: { $0 != " " && $0 != "\t" })
        guard scheme.lowercased() == "apikey" else { return nil }
        let rest = trimmed.dropFirst(scheme.count)
        return String(rest.drop(while: { $0 == " " || $0 == "\t" })).trimmingSuffixBlanks()
    }

    /// True for a key `APIKeyRing` may be asked about: 1-256 visible ASCII characters.
    static func isWellFormedAPIKey(_ key: String) -> Bool {
        (1...256).contains(key.utf8.count) && key.utf8.allSatisfy { $0 > 32 && $0 < 127 }
    }
}

extension String {
    /// The text without trailing spaces and tabs.
    fileprivate func trimmingSuffixBlanks() -> String {
        var end = endIndex
        while end > startIndex, self[index(before: end)] == " " || self[index(before: end)] == "\t" {
            end = index(before: end)
        }
        return String(self[..<end])
    }
}
