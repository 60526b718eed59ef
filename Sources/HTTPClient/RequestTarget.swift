/// The parts of a request URL that decide what may appear in an error: `host[:port]` may,
/// the path and query (signatures, keys) may not. Also refuses URLs libcurl should never see.
struct RequestTarget {
    /// `host` or `host:port`, as written in the URL (no user information).
    let hostPort: String
    /// The parts kept out of error messages: user information, and everything after the
    /// authority (path, query, fragment).
    let secrets: [String]

    /// Parses an absolute `http://` or `https://` URL; throws `.invalidRequest` for anything else
    /// or for control characters and spaces (which would let a URL smuggle a header line).
    init(_ url: String) throws(HTTPClientError) {
        guard !url.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw .invalidRequest("URL contains a space or a control character")
        }
        let rest: Substring
        if url.lowercased().hasPrefix("https://") {
            rest = url.dropFirst(8)
        } else if url.lowercased().hasPrefix("http://") {
            rest = url.dropFirst(7)
        } else {
            throw .invalidRequest("only absolute http:// and https:// URLs are sent")
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        var userInfo = ""
        if let at = authority.lastIndex(of: "@") {
            userInfo = String(authority[..<at])
            authority = authority[authority.index(after: at)...]
        }
        guard !authority.isEmpty else { throw .invalidRequest("URL has no host") }
        hostPort = String(authority)
        secrets = [userInfo, String(rest[authorityEnd...])]
    }
}
