/// Binance closes every WebSocket connection at its 24-hour mark
/// (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams): the ingest
/// opens a new connection before then, gap-repairs over REST, and closes the old one. Monotonic
/// seconds.
public struct ConnectionRenewal: Sendable, Equatable {
    /// What to do with a connection now.
    public enum Decision: Sendable, Equatable {
        /// Keep it; ask again at this time.
        case keepUntil(Double)
        /// Open its replacement now.
        case renewNow
    }

    /// Longest life the exchange grants a connection, seconds.
    public let lifetime: Double
    /// How long before that the replacement is opened, seconds.
    public let margin: Double

    /// A renewal rule.
    public init(lifetime: Double, margin: Double) {
        self.lifetime = lifetime
        self.margin = margin
    }

    /// Binance: 24 h connections, renewed 10 minutes early.
    public static let binance = ConnectionRenewal(lifetime: 86_400, margin: 600)

    /// The renewal time of a connection opened at `connectedAt`.
    public func renewAt(connectedAt: Double) -> Double { connectedAt + lifetime - margin }

    /// The decision for a connection opened at `connectedAt`, at `now`.
    public func decide(connectedAt: Double, now: Double) -> Decision {
        let at = renewAt(connectedAt: connectedAt)
        return now >= at ? .renewNow : .keepUntil(at)
    }
}
