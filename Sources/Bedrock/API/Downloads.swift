import JWTAuth

/// A REST answer that is a file rather than JSON (e.g. a backtest report export).
public struct Download: Sendable {
    public var contentType: String
    /// Suggested file name for `Content-Disposition: attachment`.
    public var filename: String
    public var body: [UInt8]
    public init(contentType: String, filename: String, body: [UInt8]) {
        self.contentType = contentType
        self.filename = filename
        self.body = body
    }
}

/// A GET route answered with a `Download`; path segments written `{name}` become parameters.
public struct DownloadRoute: Sendable {
    let segments: [String]
    let leastRole: Role
    let run: @Sendable (MethodCall) -> Result<Download, APIError>

    /// A route such as `/v1/backtest/report/{task_id}/export`.
    public init(_ path: String, leastRole: Role, run: @escaping @Sendable (MethodCall) -> Result<Download, APIError>) {
        segments = path.split(separator: "/").map(String.init)
        self.leastRole = leastRole
        self.run = run
    }

    /// Path parameters when `path` matches this route.
    func match(_ path: String) -> [(String, String)]? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard parts.count == segments.count else { return nil }
        var params: [(String, String)] = []
        for (pattern, part) in zip(segments, parts) {
            if pattern.hasPrefix("{") && pattern.hasSuffix("}") {
                params.append((String(pattern.dropFirst().dropLast()), part))
            } else if pattern != part {
                return nil
            }
        }
        return params
    }
}
