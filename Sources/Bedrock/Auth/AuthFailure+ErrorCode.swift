import JWTAuth

extension AuthFailure {
    /// The error code to answer with: always `UNAUTHENTICATED`.
    public var errorCode: ErrorCode { .unauthenticated }
}
