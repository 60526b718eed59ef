/// Where a token arrives (SPEC §5): `Authorization: Bearer <token>` or `?token=<token>`.
public enum BearerToken {
    /// The token of an `Authorization` header value: the scheme `Bearer` in any case, one or more
    /// spaces, then the token with surrounding spaces removed. `nil` for other schemes or an empty
    /// token.
    public static func fromAuthorization(_ header: String) -> String? {
        let trimmed = header.drop(while: { $0 == " " || $0 == "\t" })
        guard trimmed.count > 7, trimmed.prefix(6).lowercased() == "bearer" else { return nil }
        let afterScheme = trimmed.dropFirst(6)
        guard let first = afterScheme.first, first == " " || first == "\t" else { return nil }
        let token = afterScheme.drop(while: { $0 == " " || $0 == "\t" })
            .reversed().drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }).reversed()
        return token.isEmpty ? nil : String(token)
    }

    /// The `token` parameter of a query string (`a=1&token=XYZ`, without the leading `?`),
    /// percent-decoded; `nil` when absent or empty. JWTs are base64url and need no decoding, but
    /// clients that escape them anyway are accepted.
    public static func fromQuery(_ query: String) -> String? {
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2, kv[0] == "token" else { continue }
            guard let value = RedisEndpoint.percentDecode(kv[1]), !value.isEmpty else { return nil }
            return value
        }
        return nil
    }
}
