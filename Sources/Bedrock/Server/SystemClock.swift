import Foundation
import GatewayCore

/// The system's clocks: `ContinuousClock` (monotonic) for deadlines, `Date` for wall time.
public struct SystemClock: GatewayClock {
    private static let origin = ContinuousClock.now

    /// The system's clocks.
    public init() {}

    /// Both clocks, now.
    public func read() -> ClockReading {
        let elapsed = (ContinuousClock.now - SystemClock.origin).components
        let monotonic = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
        return ClockReading(monotonic: monotonic, wall: Date().timeIntervalSince1970)
    }
}
