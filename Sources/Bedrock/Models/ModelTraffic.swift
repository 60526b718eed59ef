/// The A/B deployment policy of the model registry (SPEC §11), pure and without I/O: the traffic
/// shares of the deployed versions, how a deploy changes them, and which version scores a signal.
///
/// - Shares are whole percentages keyed `name@version`; the deployed versions' shares always sum
///   to exactly 100 (or there is none).
/// - Deploying a version with share p (0...100) gives it p and rescales the other deployed
///   versions proportionally to their current shares to fill 100 − p, in integers by the
///   largest-remainder method (ties: the earlier `name@version`). A version left with 0 is
///   retired. The first deployed version gets 100 whatever was asked (`Change.note` says so);
///   p = 0 retires the version and rescales the others to fill 100. Only a version that had
///   traffic is ever retired: p = 0 for a version with no traffic (a candidate, or one already
///   retired) changes nothing (`Change.unchanged`, and the note says so).
/// - A signal is scored by the version whose cumulative share band (versions sorted by
///   `name@version`) holds `FNV-1a-64("strategy|market|interval|bar_time") mod 100`: the same
///   signal always picks the same version, and over many signals each gets about its share.
public struct ModelTraffic: Sendable, Equatable {
    /// `name@version` → share (1...100), summing to 100, or empty.
    public private(set) var shares: [String: Int]

    /// Traffic from stored shares (`<prefix>models:traffic`); entries ≤ 0 are dropped.
    public init(shares: [String: Int] = [:]) { self.shares = shares.filter { $0.value > 0 } }

    /// The result of a deploy.
    public struct Change: Sendable, Equatable {
        /// The shares after it.
        public var traffic: ModelTraffic
        /// The share the deployed version got (may differ from the one asked: first version).
        public var granted: Int
        /// Versions that had traffic and lost it (retired), sorted; includes the deployed one
        /// for p = 0 when it had traffic.
        public var retired: [String]
        /// Plain words when the share granted is not the one asked or nothing changed, else nil.
        public var note: String?
        /// True when the deploy changes nothing (p = 0 for a version with no traffic): nothing
        /// is written and no event appended.
        public var unchanged = false
    }

    /// Sum of the shares (100, or 0 when nothing is deployed).
    public var total: Int { shares.values.reduce(0, +) }

    /// The deployed versions sorted by `name@version`, with their shares.
    public var ordered: [(reference: String, share: Int)] {
        shares.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// What deploying `reference` with `percentage` (0...100, checked by the caller) does.
    public func deploying(_ reference: String, percentage: Int) -> Change {
        let p = min(max(percentage, 0), 100)
        let others = shares.filter { $0.key != reference }
        var next: [String: Int] = [:]
        var granted = p
        var note: String?
        if others.isEmpty {
            if p > 0 {
                granted = 100
                next[reference] = 100
                if p != 100 {
                    note = "\(reference) is the only deployed version, so it gets 100 % of the traffic (asked \(p) %)"
                }
            }
        } else {
            next = ModelTraffic.rescale(others, to: 100 - p)
            if p > 0 { next[reference] = p }
        }
        if p == 0 && shares[reference] == nil {
            return Change(
                traffic: self, granted: 0, retired: [], note: "\(reference) has no traffic: nothing changed", unchanged: true)
        }
        let after = ModelTraffic(shares: next)
        let retired = shares.keys.filter { after.shares[$0] == nil }
        return Change(traffic: after, granted: granted, retired: retired.sorted(), note: note)
    }

    /// `shares` scaled proportionally to sum to `target`, in integers by the largest remainder
    /// (ties to the earlier key); keys whose share comes out 0 are left out.
    static func rescale(_ shares: [String: Int], to target: Int) -> [String: Int] {
        let keys = shares.keys.sorted()
        let sum = keys.reduce(0) { $0 + shares[$1]! }
        guard target > 0, sum > 0 else { return [:] }
        var out: [String: Int] = [:]
        var remainders: [(key: String, rest: Int)] = []
        var given = 0
        for key in keys {
            let scaled = shares[key]! * target
            out[key] = scaled / sum
            given += scaled / sum
            remainders.append((key, scaled % sum))
        }
        let order = remainders.enumerated().sorted { a, b in
            a.element.rest != b.element.rest ? a.element.rest > b.element.rest : a.offset < b.offset
        }
        for (_, r) in order.prefix(target - given) { out[r.key]! += 1 }
        return out.filter { $0.value > 0 }
    }

    /// The version that scores the signal of `strategy` on `market` `interval` at `barTime`
    /// (RFC 3339, as on the signal); nil when nothing is deployed.
    public func pick(strategy: String, market: String, interval: String, barTime: String) -> String? {
        pick(bucket: ModelTraffic.bucket("\(strategy)|\(market)|\(interval)|\(barTime)"))
    }

    /// The version whose cumulative band (sorted by `name@version`) holds `bucket` (0...99).
    public func pick(bucket: Int) -> String? {
        var upper = 0
        for (reference, share) in ordered {
            upper += share
            if bucket < upper { return reference }
        }
        return nil
    }

    /// FNV-1a 64 of the UTF-8 bytes of `key`, mod 100.
    public static func bucket(_ key: String) -> Int { Int(fnv1a64(key) % 100) }

    /// FNV-1a, 64 bits (offset basis 14695981039346656037, prime 1099511628211).
    public static func fnv1a64(_ key: String) -> UInt64 {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 1_099_511_628_211
        }
        return hash
    }
}
