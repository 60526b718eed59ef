import Foundation
import GatewayCore

/// Monotonic seconds from `ContinuousClock` (wall time from `Date`): the hub's default clock.
public struct ContinuousMonotonicClock: GatewayClock {
    private static let origin = ContinuousClock.now

    /// The system's clocks.
    public init() {}

    /// Both clocks, now.
    public func read() -> ClockReading {
        let elapsed = (ContinuousClock.now - Self.origin).components
        return ClockReading(
            monotonic: Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18, wall: Date().timeIntervalSince1970)
    }
}
