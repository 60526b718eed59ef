/// Pacing of one exchange's REST calls (SPEC §10), on a monotonic clock the owner reads and
/// passes in (seconds): stay under `headroom` (80 %) of the published weight limit per window,
/// raise its count to the used weight the exchange reports (Binance `X-MBX-USED-WEIGHT-1M`), wait out
/// `Retry-After` on 429 and on a ban (Binance 418, Bybit 403: nothing is sent before it ends; a
/// ban is for the `EXCHANGE_BANNED` alert), and back off, doubling, on Bybit's retCode 10006.
///
/// Use: `request(weight:now:)` before each call — `sendNow` counts it as sent — then
/// `record(_:now:)` with its answer (or its failure, with no status).
public struct RequestPacer: Sendable, Equatable {
    /// What the pacer lets the caller do.
    public enum Decision: Sendable, Equatable {
        /// Send the request now (it is counted).
        case sendNow
        /// Send nothing before this monotonic time, then ask again.
        case waitUntil(Double)
    }

    /// What an answer changed, for metrics and alerts.
    public enum Outcome: Sendable, Equatable {
        /// Nothing to report.
        case ok
        /// 429: nothing is sent before `until`.
        case rateLimited(until: Double)
        /// 418 (Binance) or 403 (Bybit's "access too frequent"): the IP is banned until `until`
        /// (`EXCHANGE_BANNED`).
        case banned(until: Double)
        /// Bybit retCode 10006: backing off until `until`.
        case backingOff(until: Double)
    }

    /// One answer (or failure) of a paced request.
    public struct Answer: Sendable, Equatable {
        /// The weight the request was sent with.
        public var weight: Int
        /// HTTP status; nil when no answer arrived (timeout, connection error).
        public var status: Int?
        /// The exchange's count of used weight in the current window, when it sent one.
        public var usedWeight: Int?
        /// `Retry-After` in seconds, when sent.
        public var retryAfter: Double?
        /// True for a Bybit body with retCode 10006.
        public var rateLimitCode: Bool

        /// An answer.
        public init(weight: Int, status: Int?, usedWeight: Int? = nil, retryAfter: Double? = nil, rateLimitCode: Bool = false) {
            self.weight = weight; self.status = status; self.usedWeight = usedWeight
            self.retryAfter = retryAfter; self.rateLimitCode = rateLimitCode
        }
    }

    /// An exchange's published limit.
    public struct Policy: Sendable, Equatable {
        /// Weight allowed per window.
        public var limit: Int
        /// Window length, seconds.
        public var window: Double
        /// Fraction of `limit` the pacer uses (0.8).
        public var headroom: Double
        /// First wait after a retCode 10006, doubled on each one in a row up to `maxBackoff`.
        public var rateLimitBackoff: Double
        /// Longest back-off, seconds.
        public var maxBackoff: Double
        /// Wait after a 429 that names no `Retry-After`, seconds.
        public var defaultRetryAfter: Double
        /// The response header carrying the exchange's count of used weight, if it sends one.
        public var usedWeightHeader: String?
        /// The HTTP status by which the exchange says the IP is banned (Binance 418, Bybit 403).
        public var banStatus: Int
        /// Wait after a ban that names no `Retry-After`, seconds.
        public var defaultBanWait: Double

        /// A policy.
        public init(
            limit: Int, window: Double, headroom: Double = 0.8, rateLimitBackoff: Double = 1, maxBackoff: Double = 60,
            defaultRetryAfter: Double = 60, usedWeightHeader: String? = nil, banStatus: Int = 418,
            defaultBanWait: Double = 60
        ) {
            self.limit = limit; self.window = window; self.headroom = headroom
            self.rateLimitBackoff = rateLimitBackoff; self.maxBackoff = maxBackoff; self.defaultRetryAfter = defaultRetryAfter
            self.usedWeightHeader = usedWeightHeader; self.banStatus = banStatus; self.defaultBanWait = defaultBanWait
        }

        /// Binance spot: REQUEST_WEIGHT 6000 per minute
        /// (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits).
        public static let binance = Policy(limit: 6000, window: 60, usedWeightHeader: "X-MBX-USED-WEIGHT-1M")
        /// Bybit v5: 600 requests per 5-second window per IP, each request weighing 1; past it,
        /// HTTP 403 "access too frequent" bans the IP for at least 10 minutes
        /// (https://bybit-exchange.github.io/docs/v5/rate-limit).
        public static let bybit = Policy(limit: 600, window: 5, banStatus: 403, defaultBanWait: 600)

        /// The weight the pacer allows per window.
        public var budget: Int { Int((Double(limit) * headroom).rounded(.down)) }
    }

    /// The limit followed.
    public let policy: Policy
    /// Weight counted in the current window (sent, or as the exchange last reported).
    public private(set) var used = 0
    /// Weight of requests sent and not yet answered.
    public private(set) var inFlight = 0
    /// Nothing is sent before this time (429, a ban, 10006), when set.
    public private(set) var blockedUntil: Double?
    private var windowStart: Double?
    private var rateLimitedInARow = 0

    /// A pacer for `policy`.
    public init(policy: Policy) { self.policy = policy }

    /// May a request of `weight` go now? `sendNow` counts it.
    public mutating func request(weight: Int, now: Double) -> Decision {
        if let until = blockedUntil {
            if now < until { return .waitUntil(until) }
            blockedUntil = nil
        }
        if windowStart.map({ now >= $0 + policy.window }) ?? true {
            windowStart = now
            used = 0
        }
        let start = windowStart ?? now
        if used + weight > policy.budget, used > 0 { return .waitUntil(start + policy.window) }
        used += weight
        inFlight += weight
        return .sendNow
    }

    /// Takes in one answer: the reported weight (when above the count), and any limit it signals.
    public mutating func record(_ answer: Answer, now: Double) -> Outcome {
        inFlight = max(0, inFlight - answer.weight)
        // A report only raises the count: answers are recorded in any order, so an older, lower
        // count can arrive after a newer one, and lowering to it would let through weight the
        // exchange has already counted.
        if let reported = answer.usedWeight { used = max(used, reported + inFlight) }
        if answer.status == policy.banStatus {
            let until = now + (answer.retryAfter ?? policy.defaultBanWait)
            block(until)
            return .banned(until: until)
        }
        switch answer.status {
        case 429:
            let until = now + (answer.retryAfter ?? policy.defaultRetryAfter)
            block(until)
            return .rateLimited(until: until)
        default:
            guard answer.rateLimitCode else {
                if answer.status.map({ (200..<300).contains($0) }) ?? false { rateLimitedInARow = 0 }
                return .ok
            }
            rateLimitedInARow += 1
            let doubling = policy.rateLimitBackoff * Double(1 << min(rateLimitedInARow - 1, 20))
            let until = now + min(policy.maxBackoff, doubling)
            block(until)
            return .backingOff(until: until)
        }
    }

    private mutating func block(_ until: Double) {
        blockedUntil = max(blockedUntil ?? until, until)
    }

    /// Seconds of a `Retry-After` header (delta-seconds, digits only); nil for anything else
    /// (an HTTP date is not what the exchanges send).
    public static func retryAfterSeconds(_ header: String) -> Double? { headerInteger(header).map(Double.init) }

    /// The value of a used-weight header (`X-MBX-USED-WEIGHT-1M: 42`); nil when not a count.
    public static func usedWeight(_ header: String) -> Int? { headerInteger(header) }

    private static func headerInteger(_ header: String) -> Int? {
        let trimmed = String(header.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
        guard trimmed.utf8.count <= 9, DecimalString.isInteger(trimmed) else { return nil }
        return Int(trimmed)
    }
}
