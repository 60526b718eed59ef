import JWTAuth

extension Claims {
    /// `exp` as RFC 3339 UTC (the `expires_at` of the `welcome` frame). A signed `exp` past year
    /// 9999 is shown as 9999-12-31T23:59:59.000Z (never overflows).
    public var expiresAt: String { Timestamp.rfc3339(millis: min(exp, 253_402_300_799) * 1000) }
}
