#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The clock `exp`, `nbf` and `iat` are read against when a caller passes no `now`: whole seconds
/// since the Unix epoch from the realtime clock. Usable from inlinable code only so that it can be
/// the default argument of the public `sign` and `verify`.
@usableFromInline
enum JWTClock {
    /// Whole seconds since the Unix epoch.
    @usableFromInline
    static func nowSeconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }
}
