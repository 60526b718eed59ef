import JSONCodec
import JWTAuth

/// Dev sign-in for the dashboard: `POST /dev/token` mints a short-lived token for a chosen role.
///
/// Exists only in dev mode and answers only loopback peers; anywhere else the route is a plain
/// 404, exactly like a path that does not exist. `GET /dev/token` answers `{"dev":true,...}`
/// under the same conditions; the dashboard learns them from `/health` instead (its answer
/// carries `x-dev-sign-in: available`), so a production page never requests this route.
///
/// Body (all optional): `{"role":"VIEWER|TRADER|ADMIN","sub":"name","ttl_s":N}`; default role
/// VIEWER, subject `dev-<role>`, lifetime 900 s (10…3600 accepted). Answer:
/// `{"token","sub","role","expires_at","ttl_s"}`.
struct DevSignIn: Sendable {
    /// The route.
    static let path = "/dev/token"
    /// Default token lifetime, seconds.
    static let defaultTTL: Int64 = 900
    /// Accepted `ttl_s` values.
    static let ttlRange: ClosedRange<Int64> = 10...3600

    let signer: JWTSigner

    /// True for the textual loopback addresses lws reports (IPv4, IPv6, IPv4-mapped IPv6).
    static func isLoopback(_ peer: String) -> Bool {
        peer.hasPrefix("127.") || peer == "::1" || peer.hasPrefix("::ffff:127.")
    }

    /// What the page reads to decide whether to offer dev sign-in.
    func describe() -> JSONValue {
        [
            "dev": true, "roles": .array(Role.allCases.map { .string($0.rawValue) }),
            "default_ttl_s": .int(DevSignIn.defaultTTL),
        ]
    }

    /// The token for a request body, or why the body is refused.
    func mint(body: [UInt8], now: Int64 = Timestamp.nowSeconds()) -> Result<JSONValue, APIError> {
        var object = JSONObject()
        if !body.isEmpty {
            guard let parsed = try? JSONCodec.parse(body), let members = parsed.objectValue else {
                return .failure(APIError(.badRequest, "the body must be a JSON object"))
            }
            object = members
        }
        var role = Role.viewer
        if let value = object["role"] {
            guard let text = value.stringValue, let chosen = Role(rawValue: text.uppercased()) else {
                return .failure(APIError(.badRequest, "role must be one of VIEWER, TRADER, ADMIN"))
            }
            role = chosen
        }
        var sub = "dev-\(role.rawValue.lowercased())"
        if let value = object["sub"] {
            guard let text = value.stringValue, DevSignIn.isValidSubject(text) else {
                return .failure(APIError(.badRequest, "sub must be 1-64 characters of A-Z a-z 0-9 . _ @ -"))
            }
            sub = text
        }
        var ttl = DevSignIn.defaultTTL
        if let value = object["ttl_s"] {
            guard let seconds = value.intValue, DevSignIn.ttlRange.contains(seconds) else {
                return .failure(
                    APIError(
                        .badRequest,
                        "ttl_s must be an integer from \(DevSignIn.ttlRange.lowerBound) to \(DevSignIn.ttlRange.upperBound)"))
            }
            ttl = seconds
        }
        let token = signer.sign(sub: sub, role: role, ttl: ttl, now: now)
        return .success([
            "token": .string(token), "sub": .string(sub), "role": .string(role.rawValue),
            "expires_at": .string(Timestamp.rfc3339(millis: (now + ttl) * 1000)), "ttl_s": .int(ttl),
        ])
    }

    static func isValidSubject(_ text: String) -> Bool {
        guard (1...64).contains(text.utf8.count) else { return false }
        return text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x40 || byte == 0x2D
        }
    }
}
