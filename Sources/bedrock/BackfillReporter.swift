import Exchanges
import Foundation
import MarketDataCore
import Synchronization

/// What `bedrock backfill` tells the operator about its requests: a line on stderr for each rate
/// limit and ban (with the wait), and the rejected bars counted by reason for the summary.
/// Called from the `HistoryClient`'s observer; the counts sit in a `Mutex`.
final class BackfillReporter: Sendable {
    private let exchange: Exchange
    private let rejected = Mutex<[MarketDataRejectReason: Int]>([:])

    init(exchange: Exchange) { self.exchange = exchange }

    /// The client's observer.
    var observe: @Sendable (HistoryEvent) -> Void {
        { [self] event in
            switch event {
            case let .rateLimited(_, wait):
                line("\(exchange) rate limit reached: sending nothing for \(Int(wait.rounded(.up))) s")
            case let .banned(_, wait):
                line("\(exchange) banned this IP: sending nothing for \(Int(wait.rounded(.up))) s (EXCHANGE_BANNED)")
            case let .rejected(_, _, _, reason, _):
                rejected.withLock { $0[reason, default: 0] += 1 }
            case .request:
                break
            }
        }
    }

    /// `3 bars (high_below_body 2, malformed 1)`, or nil when none was rejected.
    var rejectedSummary: String? {
        let counts = rejected.withLock { $0 }
        guard !counts.isEmpty else { return nil }
        let total = counts.values.reduce(0, +)
        let parts = counts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }
        return "\(total) bar(s) (\(parts.joined(separator: ", ")))"
    }

    private func line(_ text: String) {
        FileHandle.standardError.write(Data(("bedrock backfill: " + text + "\n").utf8))
    }
}
