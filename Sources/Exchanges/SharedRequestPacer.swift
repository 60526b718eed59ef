import MarketDataCore
import Synchronization

/// One exchange's REST pacing (`RequestPacer`, SPEC §10), shared by every market and thread that
/// calls that exchange: all of its calls together stay under 80 % of the published limit, and a
/// `Retry-After` or a ban stops every caller at once. Create one per exchange per process and hand
/// it to each `HistoryClient` of that exchange.
///
/// Threading: the pacer sits in a `Mutex`; any thread may call it. Times are the caller's
/// monotonic seconds (the `HistoryClient`'s injected clock).
public final class SharedRequestPacer: Sendable {
    /// The limit followed.
    public let policy: RequestPacer.Policy
    private let state: Mutex<RequestPacer>

    /// A pacer following `policy`.
    public init(policy: RequestPacer.Policy) {
        self.policy = policy
        state = Mutex(RequestPacer(policy: policy))
    }

    /// A pacer following `exchange`'s published limit (Binance 6000 weight a minute, Bybit 600
    /// requests per 5 s per IP).
    public convenience init(exchange: Exchange) {
        self.init(policy: Self.policy(of: exchange))
    }

    /// `exchange`'s published limit.
    public static func policy(of exchange: Exchange) -> RequestPacer.Policy {
        switch exchange {
        case .binance: return .binance
        case .bybit: return .bybit
        }
    }

    /// May a request of `weight` go at `now`? `sendNow` counts it (see `RequestPacer.request`).
    public func request(weight: Int, now: Double) -> RequestPacer.Decision {
        state.withLock { $0.request(weight: weight, now: now) }
    }

    /// Takes in one answer (see `RequestPacer.record`).
    public func record(_ answer: RequestPacer.Answer, now: Double) -> RequestPacer.Outcome {
        state.withLock { $0.record(answer, now: now) }
    }

    /// A copy of the pacer's state (used weight, in flight, blocked until), for tests and status.
    public var snapshot: RequestPacer { state.withLock { $0 } }
}
